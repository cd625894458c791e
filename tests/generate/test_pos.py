"""POS files: local timestamps with offsets, ticket shape, amounts, and sums that match the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd


def test_clean_pos_lines_add_up_to_the_observed_sales_of_the_truth(clean_pos, truth):
    pos = clean_pos.groupby(["store_id", "local_date", "product_id"])["quantity_sold"].sum()
    sold = truth[truth["observed_sales"] > 0].set_index(["store_id", "date", "product_id"])["observed_sales"]
    sold.index = sold.index.set_names(pos.index.names)
    assert set(pos.index) == set(sold.index)
    assert np.allclose(pos.sort_index().to_numpy(), sold.sort_index().to_numpy())


def test_no_clean_line_is_repeated_and_tickets_have_one_to_four_lines(clean_pos):
    assert not clean_pos.duplicated(["transaction_id", "product_id"]).any()
    sizes = clean_pos.groupby("transaction_id").size()
    assert sizes.between(1, 4).all() and sizes.max() > 1
    per_ticket = clean_pos.groupby("transaction_id")[["timestamp", "store_id"]].nunique()
    assert (per_ticket == 1).all().all()


def test_amounts_are_quantity_times_price_and_hogaza_is_sold_by_weight(clean_pos):
    half_up = np.floor(clean_pos["quantity_sold"] * clean_pos["price_unit"] * 100 + 0.5 + 1e-6) / 100
    assert np.allclose(clean_pos["total_amount"], half_up, atol=1e-9)
    hogaza = clean_pos[clean_pos["product_id"] == "P008"]["quantity_sold"]
    assert (hogaza % 1 != 0).mean() > 0.9
    others = clean_pos[clean_pos["product_id"] != "P008"]["quantity_sold"]
    assert (others % 1 == 0).all() and (others >= 1).all()


def test_canary_store_is_one_hour_behind_mainland_across_the_dst_switch(clean_pos):
    switch = pd.Timestamp("2026-03-29")
    offsets = clean_pos.groupby(["store_id", clean_pos["local_date"] >= switch])["offset"].unique()
    assert offsets.loc[("S001", False)].tolist() == ["+01:00"]
    assert offsets.loc[("S001", True)].tolist() == ["+02:00"]
    assert offsets.loc[("S002", False)].tolist() == ["+00:00"]  # Las Palmas: Atlantic/Canary
    assert offsets.loc[("S002", True)].tolist() == ["+01:00"]


def test_tickets_fall_within_local_opening_hours(clean_pos):
    assert clean_pos.loc[clean_pos["store_id"] == "S001", "hour"].between(7, 20).all()  # urban 07-21
    assert clean_pos.loc[clean_pos["store_id"] == "S002", "hour"].between(7, 19).all()  # rural 07-20
    busiest = clean_pos.groupby("hour")["transaction_id"].nunique().idxmax()
    assert 8 <= busiest <= 10  # the breakfast rush


def test_hourly_traffic_follows_the_tickets(small_demo, clean_pos):
    traffic = pd.concat(pd.read_parquet(p) for p in sorted((small_demo.out / "traffic").iterdir()))
    traffic["key"] = traffic["timestamp"].str[:13]
    tickets = (
        clean_pos.assign(key=clean_pos["timestamp"].str[:13])
        .groupby(["store_id", "key"])["transaction_id"]
        .nunique()
    )
    joined = traffic.set_index(["store_id", "key"])["foot_traffic_count"].to_frame().join(tickets.rename("t"))
    joined = joined.fillna(0)
    assert (joined["foot_traffic_count"] >= 0).all()
    assert np.corrcoef(joined["foot_traffic_count"], joined["t"])[0, 1] > 0.8
