-- The signatures of delivery events, each taken once. A delivery event (POST /v1/shipments/{id}/events) is signed over
-- its timestamp and body, and its body need not name the shipment: the shipment is the path's. Without this table, a
-- signed event seen on its way (a proxy, a log) could be sent again within the signature's 300-second window to any
-- other shipment's path and be taken as genuine. Now a signature is bound to the first shipment it came for: the same
-- request again (a retry) is answered as before, the same signature on another shipment's path is refused with 401.
-- Senders that put "shipment_id" in the body (checked against the path) sign each shipment's events apart anyway.
-- One row per delivery event taken, as small as shipment_events' own.
CREATE TABLE IF NOT EXISTS shipment_event_signatures (
    signature BINARY(32) NOT NULL,
    shipment_id BIGINT UNSIGNED NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (signature)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
