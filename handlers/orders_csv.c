/*
 * A merchant's orders as CSV (GET /v1/merchant/orders with Accept: text/csv): what a co-op opens in a spreadsheet
 * program on its phone, Chinese first, each page a file of its own (the byte order mark and the header row included).
 */
#include <stdio.h>
#include <string.h>
#include "livebuy/base/civil_time.h"
#include "livebuy/codec/csv.h"
#include "livebuy/handlers.h"

static const char *const columns[] = {
    "订单号 order",
    "下单时间 time (UTC+8)",
    "状态 status",
    "商品 produce",
    "数量 qty",
    "金额(元) yuan",
    "买家 buyer",
    "买家编号 buyer id",
    "电话 phone",
    "渠道 channel",
    "自提点或地址 pickup / address",
    "快递单号 tracking no",
};

/* "已付款 paid": the pages' word, then the API's. */
static void status_cell(lb_csv_t *csv, const char *status)
{
    char cell[64];
    const char *zh = "";
    for (size_t i = 0; lb_order_statuses[i] != NULL; ++i)
        if (strcmp(lb_order_statuses[i], status) == 0)
            zh = lb_order_status_names_zh[i];
    snprintf(cell, sizeof(cell), "%s %s", zh, status);
    lb_csv_text(csv, cell);
}

/* Where the order goes: its pickup station with the station's address, else the address it ships to. */
static void destination_cell(lb_csv_t *csv, const lb_order_t *order, const lb_order_details_t *details)
{
    char cell[sizeof(details->pickup_point_name) + sizeof(details->pickup_point_address) + 4];
    if (details->pickup_point_id != 0) {
        snprintf(cell, sizeof(cell), "%s (%s)", details->pickup_point_name, details->pickup_point_address);
        lb_csv_text(csv, cell);
    } else {
        lb_csv_text(csv, order->has_ship_to ? order->ship_to_address : "");
    }
}

static void write_row(lb_csv_t *csv, const lb_order_t *order, const lb_order_details_t *details)
{
    char time[LB_CHINA_TIME_SIZE];
    lb_time_format_china(order->created_at, time);
    lb_csv_integer(csv, order->id);
    lb_csv_text(csv, time);
    status_cell(csv, order->status);
    lb_csv_text(csv, details->title);
    lb_csv_integer(csv, order->qty);
    lb_csv_cents(csv, order->amount_cents);
    lb_csv_text(csv, order->has_ship_to ? order->ship_to_name : "");
    lb_csv_integer(csv, order->buyer_id);
    lb_csv_text(csv, order->has_ship_to ? order->ship_to_phone : "");
    lb_csv_text(csv, order->live_item_id != 0 ? "直播 live" : order->group_buy_id != 0 ? "团购 group-buy" : "直购 direct");
    destination_cell(csv, order, details);
    lb_csv_text(csv, details->tracking_no);
    lb_csv_end_row(csv);
}

void lb_orders_csv_write(lb_buffer_t *out, const lb_order_t *orders, const lb_order_details_t *details, size_t n)
{
    lb_csv_t csv = {out, 0};
    lb_buffer_append(out, LB_CSV_BOM, sizeof(LB_CSV_BOM) - 1);
    for (size_t i = 0; i != sizeof(columns) / sizeof(columns[0]); ++i)
        lb_csv_text(&csv, columns[i]);
    lb_csv_end_row(&csv);
    for (size_t i = 0; i != n; ++i)
        write_row(&csv, &orders[i], &details[i]);
}
