-- Whether a push of the shipment was ever begun. A buyer's refund of a paid order cancels its shipment (and puts its
-- units on sale again) when no dispatcher holds it; but a claim is let go after each push, and a push whose answer was
-- lost (a time-out, a proxy's 502, a reset) or that a stopping livebuyd abandoned may have reached the shipping system
-- all the same: cancelled here, it shipped there, the money went back and the units were sold twice. A shipment once
-- claimed for a push is now never cancelled that way: its refund is a request for the co-op, as after a handoff.
-- Rows made before this: those with an attempt, an answer or a claim were pushed. The statements can run again.
ALTER TABLE shipments ADD COLUMN IF NOT EXISTS push_started TINYINT NOT NULL DEFAULT 0
    COMMENT '1 once a push was begun: the shipping system may have it, so it is never cancelled by a refund';
UPDATE shipments SET push_started = 1
WHERE push_started = 0 AND (attempts > 0 OR status IN ('acked', 'dead') OR claimed_by IS NOT NULL);
