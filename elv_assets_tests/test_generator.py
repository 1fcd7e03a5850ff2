"""The synthetic demo world: deterministic, the right shape, and as messy as real exports."""

from __future__ import annotations

import hashlib
import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from elv_assets.demo.generator import SIZES, WORLD_END_DATE, generate_world

HEADERS = {
    "ads.csv": "date,platform,campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,spend,impressions,clicks,currency",
    "adsets.csv": "adset_id,campaign_id,adset_name,daily_budget,pacing_status,start_date,end_date",
    "conversions.csv": "date,adset_id,conversion_type,attribution_window,count,value",
    "leads.csv": "lead_id,created_at,campaign_id,adset_id,ad_id,utm_campaign,utm_content,campaign_name,form,country,"
                 "device,company_size,job_level,email_domain",
    "outcomes.csv": "lead_id,qualified_at,booked_at,won_at,revenue",
    "mapping.csv": "field,value,campaign_id,adset_id",
    "truth/leads_truth.csv": "lead_id,p_qualified_true,value_true",
    "truth/adsets_truth.csv": "adset_id,campaign_id,platform,response_scale,response_half_spend,capacity,daily_budget,"
                              "quality_logit",
}


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.csv"))
    }


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("world_s7")
    messages: list[str] = []
    summary = generate_world(folder, size="s", seed=7, progress=messages.append)
    assert messages, "progress is reported"
    return folder, summary


@pytest.fixture(scope="module")
def leads(world) -> pd.DataFrame:
    return _read(world[0], "leads.csv")


def test_same_seed_gives_identical_bytes(world, tmp_path):
    folder, summary = world
    again = generate_world(tmp_path / "again", size="s", seed=7)
    assert again == summary
    assert _digests(tmp_path / "again") == _digests(folder)


def test_different_seed_differs(world, tmp_path):
    generate_world(tmp_path / "other", size="s", seed=8)
    ours, theirs = _digests(world[0]), _digests(tmp_path / "other")
    assert ours.keys() == theirs.keys()
    assert ours["leads.csv"] != theirs["leads.csv"]
    assert ours["ads.csv"] != theirs["ads.csv"]


def test_file_set_headers_and_summary(world):
    folder, summary = world
    assert set(_digests(folder)) == set(HEADERS)
    for name, header in HEADERS.items():
        with open(folder / name) as f:
            assert f.readline().rstrip("\n") == header, name
        with open(folder / name) as f:
            assert summary[name] == sum(1 for _ in f) - 1, name
    assert summary["currency"] == "GBP"
    assert summary["end_date"] == WORLD_END_DATE.isoformat() == "2026-10-31"
    assert date(2026, 10, 31) == WORLD_END_DATE
    assert (date.fromisoformat(summary["end_date"]) - date.fromisoformat(summary["start_date"])).days == 179


def test_shape_and_row_counts(world, leads):
    folder, summary = world
    size = SIZES["s"]
    ads = _read(folder, "ads.csv")
    dates = pd.to_datetime(ads["date"], format="%d/%m/%Y")
    assert dates.min().date().isoformat() == summary["start_date"]
    assert dates.max().date() == WORLD_END_DATE
    assert dates.dt.normalize().nunique() == size["days"] == 180
    assert ads["campaign_id"].nunique() == size["campaigns"]
    assert ads["adset_id"].nunique() == size["adsets"]
    assert ads["ad_id"].nunique() == size["ads"]
    assert set(ads["currency"]) == {"GBP"}
    assert {p.lower() for p in ads["platform"]} == {"meta", "google", "linkedin", "tiktok"}
    assert ads["campaign_id"].str.fullmatch(r"cmp_\d{3}").all()
    assert ads["adset_id"].str.fullmatch(r"as_\d{4}").all()
    assert ads["ad_id"].str.fullmatch(r"ad_\d{5}").all()

    unique_leads = leads["lead_id"].nunique()
    assert abs(unique_leads - size["leads"]) <= 0.1 * size["leads"]
    assert leads["lead_id"].str.fullmatch(r"L\d{7}").all()
    created = pd.to_datetime(leads["created_at"], format="%Y-%m-%d %H:%M:%S")
    assert created.min().date().isoformat() == summary["start_date"]
    assert created.max().date() == WORLD_END_DATE

    adsets = _read(folder, "adsets.csv")
    assert len(adsets) == size["adsets"] and adsets["adset_id"].is_unique
    pd.to_datetime(adsets["start_date"], format="%Y-%m-%d")
    assert adsets["end_date"].isna().any() and adsets["end_date"].notna().any()

    conv = _read(folder, "conversions.csv")
    pd.to_datetime(conv["date"], format="%Y-%m-%d")
    assert (conv["count"].astype(int) >= 0).all()

    outcomes = _read(folder, "outcomes.csv")
    assert outcomes["lead_id"].is_unique and set(outcomes["lead_id"]) <= set(leads["lead_id"])
    assert outcomes["qualified_at"].notna().all()
    end = pd.Timestamp(WORLD_END_DATE) + pd.Timedelta(hours=23, minutes=59, seconds=59)
    for col in ("qualified_at", "booked_at", "won_at"):
        assert (pd.to_datetime(outcomes[col], format="%Y-%m-%d %H:%M:%S").dropna() <= end).all()
    won = outcomes["won_at"].notna()
    assert outcomes.loc[won, "revenue"].notna().all() and outcomes.loc[~won, "revenue"].isna().all()
    assert (outcomes.loc[won, "revenue"].astype(float) > 0).all()


def test_realistic_mess(world, leads):
    folder, _ = world
    ads = _read(folder, "ads.csv")
    assert (ads["spend"].astype(float) < 0).sum() >= 5
    assert 0 < ads.duplicated().sum() < 0.01 * len(ads)

    adsets = _read(folder, "adsets.csv")
    spellings = set(adsets["pacing_status"].dropna())
    assert len(spellings) >= 5
    assert adsets["pacing_status"].isna().sum() >= 1
    squashed = {s.lower().replace(" ", "").replace("_", "").replace("-", "") for s in spellings}
    assert {"underpacing", "overpacing"} <= squashed and squashed & {"onpace", "ontrack"}

    conv = _read(folder, "conversions.csv")
    assert conv["value"].isna().any()
    assert 0.02 < conv["value"].isna().mean() < 0.10
    assert {"Lead", "lead"} <= set(conv["conversion_type"])
    assert set(conv["conversion_type"].str.lower()) == {"lead", "purchase"}
    assert conv["attribution_window"].nunique() > conv["attribution_window"].str.lower().nunique()
    key = [conv["date"], conv["adset_id"], conv["conversion_type"].str.lower(), conv["attribution_window"].str.lower()]
    assert not pd.concat(key, axis=1).duplicated().any()

    mapping = _read(folder, "mapping.csv")
    assert set(mapping["field"]) == {"utm_content"} and mapping["value"].is_unique
    known = set(mapping["value"])
    no_ids = leads["campaign_id"].isna() & leads["adset_id"].isna() & leads["ad_id"].isna()
    by_utm = no_ids & leads["utm_content"].isin(known)
    assert 0.05 < by_utm.mean() < 0.15
    assert not leads.loc[by_utm, "utm_content"].isin(set(mapping["adset_id"]) | set(mapping["campaign_id"])).any()
    orphans = no_ids & leads["utm_content"].notna() & ~leads["utm_content"].isin(known) & leads["campaign_name"].isna()
    assert 0.001 < orphans.mean() < 0.02
    by_name = no_ids & leads["utm_content"].isna() & leads["campaign_name"].notna()
    assert 0.02 < by_name.mean() < 0.07

    def norm(s: pd.Series) -> pd.Series:
        return s.str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()

    assert norm(leads.loc[by_name, "campaign_name"]).isin(set(norm(ads["campaign_name"]))).all()
    assert not leads.loc[by_name, "campaign_name"].isin(set(ads["campaign_name"])).all()
    has_ids = leads["campaign_id"].notna() & leads["adset_id"].notna() & leads["ad_id"].notna()
    assert 0.8 < has_ids.mean() < 0.9
    assert leads["utm_campaign"].notna().all()

    dups = leads.duplicated()
    assert 0 < dups.sum() < 0.005 * len(leads)
    assert leads.duplicated(keep=False).sum() == 2 * dups.sum()
    assert set(leads["form"]) == {"short", "long", "calculator"}
    assert set(leads["country"]) == {"GB", "IE", "US", "DE", "FR", "NL"}
    assert set(leads["device"]) == {"mobile", "desktop", "tablet"}
    assert set(leads["company_size"]) == {"1-10", "11-50", "51-200", "201-1000", "1000+"}
    assert set(leads["job_level"]) == {"entry", "manager", "director", "c_level"}
    assert set(leads["email_domain"]) == {"business", "free"}


def test_truth_files(world, leads):
    folder, _ = world
    truth = _read(folder, "truth/leads_truth.csv")
    assert truth["lead_id"].is_unique and set(truth["lead_id"]) == set(leads["lead_id"])
    p = truth["p_qualified_true"].astype(float)
    v = truth["value_true"].astype(float)
    assert p.between(0, 1).all() and (v >= 0).all()
    assert 0.12 <= p.mean() <= 0.25

    adsets = _read(folder, "truth/adsets_truth.csv")
    assert len(adsets) == SIZES["s"]["adsets"]
    nums = adsets[["response_scale", "response_half_spend", "capacity", "daily_budget"]].astype(float)
    assert (nums > 0).all().all()
    assert set(adsets["platform"]) == {"meta", "google", "linkedin", "tiktok"}
    limited = (nums["capacity"] < nums["daily_budget"]).mean()
    assert 0.1 < limited < 0.35

    # the response curve reproduces the lead volume from the spend in ads.csv
    ads = _read(folder, "ads.csv").drop_duplicates()
    ads["spend"] = ads["spend"].astype(float).clip(lower=0)
    daily = ads.groupby(["adset_id", "date"], as_index=False)["spend"].sum().merge(adsets, on="adset_id")
    expected = (daily["response_scale"].astype(float)
                * (1 - (-daily["spend"] / daily["response_half_spend"].astype(float) * math.log(2)).map(math.exp)))
    assert abs(expected.sum() / leads["lead_id"].nunique() - 1) < 0.05


def test_qualification_delays(world, leads):
    folder, _ = world
    outcomes = _read(folder, "outcomes.csv")
    created = leads.drop_duplicates("lead_id").set_index("lead_id")["created_at"]
    q = pd.to_datetime(outcomes["qualified_at"], format="%Y-%m-%d %H:%M:%S")
    c = pd.to_datetime(outcomes["lead_id"].map(created), format="%Y-%m-%d %H:%M:%S")
    delay = (q - c).dt.total_seconds() / 86400
    assert (delay >= 0).all()
    assert 0.10 <= (delay > 14).mean() <= 0.35
    assert 1.5 < delay.median() < 8


def test_drift_in_the_last_three_weeks(world, leads):
    folder, _ = world
    created = pd.to_datetime(leads["created_at"], format="%Y-%m-%d %H:%M:%S")
    late = created >= pd.Timestamp(WORLD_END_DATE) - pd.Timedelta(days=20)
    mobile = leads["device"] == "mobile"
    assert mobile[late].mean() - mobile[~late].mean() > 0.15
    ads = _read(folder, "ads.csv")
    ads["day"] = pd.to_datetime(ads["date"], format="%d/%m/%Y")
    ads["spend"] = ads["spend"].astype(float)
    per_day = ads[ads["platform"].str.lower() == "tiktok"].groupby("day")["spend"].sum()
    end = pd.Timestamp(WORLD_END_DATE)
    last_week = per_day[per_day.index > end - pd.Timedelta(days=7)].mean()
    before = per_day[per_day.index <= end - pd.Timedelta(days=28)].mean()
    assert last_week > 1.5 * before


def test_unknown_size_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown size"):
        generate_world(tmp_path, size="xl")
