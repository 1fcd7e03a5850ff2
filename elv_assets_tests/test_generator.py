"""The synthetic demo worlds: deterministic, the right shape, as messy as real exports, and (v2) hard in the ways
real B2B funnels are while its truth stays reachable from what the exports show."""

from __future__ import annotations

import hashlib
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, logit, ndtr
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from elv_assets.cli import build_parser, main
from elv_assets.demo.generator import SIZES, WORLD_END_DATE, generate_world
from elv_assets.demo.worlds import common
from elv_assets.demo.worlds import v2 as law

V1_LEADS = ("lead_id,created_at,campaign_id,adset_id,ad_id,utm_campaign,utm_content,campaign_name,form,country,"
            "device,company_size,job_level,email_domain")
HEADERS = {
    "ads.csv": "date,platform,campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,spend,impressions,clicks,currency",
    "adsets.csv": "adset_id,campaign_id,adset_name,daily_budget,pacing_status,start_date,end_date",
    "conversions.csv": "date,adset_id,conversion_type,attribution_window,count,value",
    "leads.csv": V1_LEADS,
    "outcomes.csv": "lead_id,qualified_at,booked_at,won_at,revenue",
    "mapping.csv": "field,value,campaign_id,adset_id",
    "truth/leads_truth.csv": "lead_id,p_qualified_true,value_true",
    "truth/adsets_truth.csv": "adset_id,campaign_id,platform,response_scale,response_half_spend,capacity,daily_budget,"
                              "quality_logit",
}
V2_HEADERS = {
    **HEADERS,
    "leads.csv": V1_LEADS + ",employees,pages_viewed,industry,sales_stage,gclid,fbclid,email,phone",
    "truth/leads_truth.csv": "lead_id,p_qualified_true,value_true,value_if_qualified_true,p_ever_true",
}
WORLD_HEADERS = {"simple": HEADERS, "v2": V2_HEADERS}
END = pd.Timestamp(WORLD_END_DATE) + pd.Timedelta(days=1)  # the end of the world's last day
TS = "%Y-%m-%d %H:%M:%S"


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*.csv"))
    }


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False, na_values=[""])


def _headers(folder: Path) -> dict[str, str]:
    out = {}
    for name in HEADERS:
        with open(folder / name) as f:
            out[name] = f.readline().rstrip("\n")
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """Both worlds at size s, seed 7, generated once for the module."""
    out = {}
    for name in WORLD_HEADERS:
        folder = tmp_path_factory.mktemp(f"world_{name}_s7")
        messages: list[str] = []
        summary = generate_world(folder, size="s", seed=7, progress=messages.append, world=name)
        assert messages, "progress is reported"
        out[name] = (folder, summary)
    return out


@pytest.fixture(scope="module", params=list(WORLD_HEADERS))
def world(request, generated) -> tuple[Path, dict, str]:
    return (*generated[request.param], request.param)


@pytest.fixture(scope="module")
def leads(world) -> pd.DataFrame:
    return _read(world[0], "leads.csv")


# --- both worlds: determinism, shape, mess -------------------------------------------------------------
def test_same_seed_gives_identical_bytes(world, tmp_path):
    folder, summary, name = world
    again = generate_world(tmp_path / "again", size="s", seed=7, world=name)
    assert again == summary
    assert _digests(tmp_path / "again") == _digests(folder)


def test_different_seed_differs(world, tmp_path):
    folder, _, name = world
    generate_world(tmp_path / "other", size="s", seed=8, world=name)
    ours, theirs = _digests(folder), _digests(tmp_path / "other")
    assert ours.keys() == theirs.keys()
    assert ours["leads.csv"] != theirs["leads.csv"]
    assert ours["ads.csv"] != theirs["ads.csv"]


def test_the_worlds_share_entities_but_not_leads(generated):
    simple, v2 = (_digests(generated[name][0]) for name in ("simple", "v2"))
    assert simple["adsets.csv"] == v2["adsets.csv"] and simple["mapping.csv"] == v2["mapping.csv"]
    assert simple["ads.csv"] != v2["ads.csv"]  # v2 edits budgets over time
    assert simple["leads.csv"] != v2["leads.csv"]


def test_file_set_headers_and_summary(world):
    folder, summary, name = world
    headers = WORLD_HEADERS[name]
    assert set(_digests(folder)) == set(headers)
    assert _headers(folder) == headers
    for file in headers:
        with open(folder / file) as f:
            assert summary[file] == sum(1 for _ in f) - 1, file
    assert summary["world"] == name
    assert summary["currency"] == "GBP"
    assert summary["end_date"] == WORLD_END_DATE.isoformat() == "2026-10-31"
    assert date(2026, 10, 31) == WORLD_END_DATE
    assert (date.fromisoformat(summary["end_date"]) - date.fromisoformat(summary["start_date"])).days == 179


def test_shape_and_row_counts(world, leads):
    folder, summary, _ = world
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
    created = pd.to_datetime(leads["created_at"], format=TS)
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
        assert (pd.to_datetime(outcomes[col], format=TS).dropna() <= end).all()
    won = outcomes["won_at"].notna()
    assert outcomes.loc[won, "revenue"].notna().all() and outcomes.loc[~won, "revenue"].isna().all()
    assert (outcomes.loc[won, "revenue"].astype(float) > 0).all()


def test_realistic_mess(world, leads):
    folder, _, name = world
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
    assert leads.drop_duplicates()["lead_id"].is_unique
    assert set(leads["form"]) == {"short", "long", "calculator"}
    assert set(leads["country"]) == {"GB", "IE", "US", "DE", "FR", "NL"}
    assert set(leads["device"]) == {"mobile", "desktop", "tablet"}
    assert set(leads["company_size"].dropna()) == {"1-10", "11-50", "51-200", "201-1000", "1000+"}
    assert leads["company_size"].notna().all() == (name == "simple")  # v2 leaves ~8% blank
    assert set(leads["job_level"]) == {"entry", "manager", "director", "c_level"}
    assert set(leads["email_domain"]) == {"business", "free"}


def test_truth_files(world, leads):
    folder, _, _ = world
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
    folder, _, _ = world
    outcomes = _read(folder, "outcomes.csv")
    created = leads.drop_duplicates("lead_id").set_index("lead_id")["created_at"]
    q = pd.to_datetime(outcomes["qualified_at"], format=TS)
    c = pd.to_datetime(outcomes["lead_id"].map(created), format=TS)
    delay = (q - c).dt.total_seconds() / 86400
    assert (delay >= 0).all()
    assert 0.10 <= (delay > 14).mean() <= 0.35
    assert 1.5 < delay.median() < 8


def test_drift_in_the_last_three_weeks(world, leads):
    folder, _, _ = world
    created = pd.to_datetime(leads["created_at"], format=TS)
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


def test_unknown_size_or_world_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown size"):
        generate_world(tmp_path, size="xl")
    with pytest.raises(ValueError, match="unknown world"):
        generate_world(tmp_path, world="v3")


def test_cli_passes_the_world_through(generated, tmp_path, capsys):
    parser = build_parser()
    assert parser.parse_args(["generate"]).world == "v2"
    assert parser.parse_args(["demo"]).world == "v2"
    assert main(["generate", "--world", "simple", "--size", "s", "--seed", "7", "--out", str(tmp_path)]) == 0
    assert "simple" in capsys.readouterr().out
    assert _headers(tmp_path) == HEADERS
    assert _digests(tmp_path) == _digests(generated["simple"][0])


# --- v2: the harder world ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def v2(generated) -> dict[str, pd.DataFrame]:
    """v2 at s/7: unique leads joined to the truth and outcomes, with the exports the truth may read."""
    folder = generated["v2"][0]
    leads = _read(folder, "leads.csv").drop_duplicates("lead_id").reset_index(drop=True)
    truth = _read(folder, "truth/leads_truth.csv")
    outcomes = _read(folder, "outcomes.csv")
    df = leads.merge(truth, on="lead_id", validate="1:1").merge(outcomes, on="lead_id", how="left")
    for c in ("p_qualified_true", "value_true", "value_if_qualified_true", "p_ever_true", "revenue"):
        df[c] = df[c].astype(float)
    for c in ("created_at", "qualified_at", "booked_at", "won_at"):
        df[c] = pd.to_datetime(df[c], format=TS)
    df["platform"] = df["utm_campaign"].str.split("_").str[0]
    df["delay"] = (df["qualified_at"] - df["created_at"]).dt.total_seconds() / 86400
    df["mature"] = df["created_at"] + pd.Timedelta(days=14) <= END
    df["label"] = (df["delay"] <= 14).astype(int)
    df["logit_ever"] = logit(df["p_ever_true"])
    return {"leads": df, "raw_leads": _read(folder, "leads.csv"), "ads": _read(folder, "ads.csv"),
            "adsets": _read(folder, "adsets.csv"), "adsets_truth": _read(folder, "truth/adsets_truth.csv")}


def test_v2_new_columns(v2):
    df, raw = v2["leads"], v2["raw_leads"]
    assert 0.09 < raw["employees"].isna().mean() < 0.15
    assert 0.05 < raw["company_size"].isna().mean() < 0.11
    both_blank = df["employees"].isna() & df["company_size"].isna()
    assert 0.003 < both_blank.mean() < 0.02  # independent blanks

    employees = df["employees"].dropna().astype(int)
    assert employees.between(2, 20_000).all() and 15 < employees.median() < 120
    assert employees.max() > 5_000 and (employees <= 10).mean() > 0.1
    shown = df["employees"].notna() & df["company_size"].notna()
    band = pd.cut(df.loc[shown, "employees"].astype(int), [0, 10, 50, 200, 1000, np.inf],
                  labels=["1-10", "11-50", "51-200", "201-1000", "1000+"]).astype(str)
    assert (band == df.loc[shown, "company_size"]).all()

    pages = df["pages_viewed"].astype(int)
    assert df["pages_viewed"].notna().all() and pages.between(1, 60).all()
    assert 2 <= pages.median() <= 8 and (pages >= 20).mean() > 0.02
    assert set(df["industry"]) == set(law.INDUSTRIES) and len(law.INDUSTRIES) == 8
    assert set(df["sales_stage"].dropna()) == set(law.SALES_STAGES)

    for col, platform, share, pattern in (("gclid", "google", 0.90, r"Cj0KCQiA[A-Za-z0-9_-]{60}"),
                                          ("fbclid", "meta", 0.85, r"IwAR[A-Za-z0-9_-]{60}")):
        has = df[col].notna()
        assert set(df.loc[has, "platform"]) == {platform}
        assert abs(has[df["platform"] == platform].mean() - share) < 0.03
        assert df.loc[has, col].str.fullmatch(pattern).all() and df.loc[has, col].is_unique

    for col in ("email", "phone"):
        assert 0.07 < df[col].isna().mean() < 0.13
        assert df[col].dropna().is_unique
    email = df.dropna(subset=["email"])
    assert email["email"].str.fullmatch(r"[a-z]+\.[a-z]+\d+@[a-z0-9.-]+").all()
    free = email["email"].str.split("@").str[1].isin(["gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.co.uk"])
    assert (free == (email["email_domain"] == "free")).all()
    tld = {"GB": ".co.uk", "IE": ".ie", "US": ".com", "DE": ".de", "FR": ".fr", "NL": ".nl"}
    business = email[~free]
    assert all(e.endswith(tld[c]) for e, c in zip(business["email"], business["country"], strict=True))
    phone = df.dropna(subset=["phone"])
    prefix = {"GB": "+44 7", "IE": "+353 8", "US": "+1 ", "DE": "+49 1", "FR": "+33 ", "NL": "+31 6 "}
    assert all(p.startswith(prefix[c]) for p, c in zip(phone["phone"], phone["country"], strict=True))
    assert phone["phone"].str.fullmatch(r"\+\d{1,3}( \d+)+").all()


def test_v2_sales_stage_is_a_leak(v2):
    df = v2["leads"]
    mature = df[df["mature"]]
    stage = mature["sales_stage"].fillna("(blank)")
    rate = mature.groupby(stage)["label"].mean()
    assert roc_auc_score(mature["label"], stage.map(rate)) >= 0.95

    after = {"SQL", "Meeting booked", "Closed won", "Closed lost"}
    qualified = df["qualified_at"].notna()
    assert df.loc[qualified, "sales_stage"].isin(after).mean() > 0.9
    assert (df.loc[df["won_at"].notna(), "sales_stage"] == "Closed won").mean() > 0.9
    old_open = ~qualified & (df["created_at"] < END - pd.Timedelta(days=4))
    assert df.loc[old_open, "sales_stage"].isin({"Contacted", "Nurture", "Disqualified"}).mean() > 0.9
    young = ~qualified & (df["created_at"] > END - pd.Timedelta(days=2))
    assert (df.loc[young, "sales_stage"].isna() | (df.loc[young, "sales_stage"] == "New")).mean() > 0.9
    assert 0.02 < (~df["sales_stage"].isin(after) & qualified).sum() / qualified.sum() < 0.08  # noise


def test_v2_interactions_and_nonlinear_effects(v2):
    df = v2["leads"]
    ever = df.groupby(["job_level", "company_size"])["p_ever_true"].mean()
    assert ever["c_level", "1-10"] > ever["c_level", "1000+"] + 0.08  # founders, not enterprise C-suites
    assert ever["entry", "1000+"] > ever["entry", "1-10"] + 0.2
    by_device_form = df.groupby(["device", "form"])["logit_ever"].mean()
    long_penalty = by_device_form["desktop", "long"] - by_device_form["mobile", "long"]
    calc_penalty = by_device_form["desktop", "calculator"] - by_device_form["mobile", "calculator"]
    assert long_penalty > calc_penalty + 1.2
    mobile = df.groupby(["device", "form"])["p_ever_true"].mean()["mobile"]
    assert mobile["long"] < mobile["short"] < mobile["calculator"]

    pages = df["pages_viewed"].astype(int)
    by_pages = df.groupby(pd.cut(pages, [0, 1, 3, 9, 19, 60]), observed=True)["logit_ever"].mean().to_numpy()
    assert by_pages[0] < by_pages[2] - 1.0 and by_pages[4] < by_pages[2] - 0.8  # rises, then falls
    employees = df["employees"].astype(float)
    by_size = df.groupby(pd.cut(employees, [0, 5, 100, 400, 5000, 20000]), observed=True)["logit_ever"].mean()
    assert by_size.iloc[2] > max(by_size.iloc[0], by_size.iloc[4]) + 0.3  # a sweet spot


def test_v2_truth_is_reachable_from_the_exports(v2):
    """Recompute the law from leads.csv, ads.csv and adsets.csv (plus each ad set's quality constant, which a
    model learns from the ad set's history) for the leads with all three ids: it matches the truth file."""
    df = v2["leads"]
    df = df[df["campaign_id"].notna() & df["adset_id"].notna() & df["ad_id"].notna()].reset_index(drop=True)
    ads = v2["ads"].drop_duplicates().copy()
    ads["date"] = pd.to_datetime(ads["date"], format="%d/%m/%Y")
    ads["spend"] = ads["spend"].astype(float).clip(lower=0)
    start = ads["date"].min()
    days = (ads["date"].max() - start).days + 1
    day = ((df["created_at"].dt.normalize() - start).dt.days).to_numpy()

    idx = lambda col, values: df[col].map({v: i for i, v in enumerate(values)}).to_numpy()  # noqa: E731
    plat = idx("platform", common.PLATFORMS)
    form, country, device = idx("form", common.FORMS), idx("country", common.COUNTRIES), idx("device", common.DEVICES)
    job, industry = idx("job_level", common.JOB_LEVELS), idx("industry", law.INDUSTRIES)
    free = (df["email_domain"] == "free").to_numpy()
    employees = df["employees"].astype(float).to_numpy()
    shown = ~np.isnan(employees)
    band = df["company_size"].map({v: i for i, v in enumerate(common.COMPANY_SIZES)}).to_numpy()
    band = np.where(np.isnan(band), np.where(shown, law.size_band(np.nan_to_num(employees)), -1), band).astype(int)
    known = band >= 0
    quality = df["adset_id"].map(v2["adsets_truth"].set_index("adset_id")["quality_logit"].astype(float)).to_numpy()

    # spend pressure: the ad set's mean daily spend on its days with rows in the 7 days before, against its budget
    daily = ads.groupby(["adset_id", "date"])["spend"].sum().unstack(0).reindex(
        pd.date_range(start, periods=days)).reindex(columns=sorted(set(df["adset_id"])))
    spend7 = daily.fillna(0).rolling(7, min_periods=1).sum().shift(1).fillna(0)
    live7 = daily.notna().astype(float).rolling(7, min_periods=1).sum().shift(1).fillna(0)
    col = daily.columns.get_indexer(df["adset_id"])
    s7, l7 = spend7.to_numpy()[day, col], live7.to_numpy()[day, col]
    budget = df["adset_id"].map(v2["adsets"].set_index("adset_id")["daily_budget"].astype(float)).to_numpy()
    ratio = np.clip(np.divide(s7, l7, out=np.ones_like(s7), where=l7 > 0) / budget, *law.SPEND_RATIO_RANGE)
    pressure = np.where(l7 > 0, -law.SPEND_PRESSURE * np.log(ratio), 0.0)
    ad_age = day - df["ad_id"].map((ads.groupby("ad_id")["date"].min() - start).dt.days).to_numpy()

    def ramp(window: int) -> np.ndarray:
        return np.clip((day - (days - window) + 1) / common.DRIFT_RAMP_DAYS, 0.0, 1.0)

    x = np.log(df["pages_viewed"].astype(float).to_numpy())
    weekday = df["created_at"].dt.weekday.to_numpy()
    z = (law.QUAL_BASE + common.PLATFORM_QUALITY[plat] + quality + law.FORM_EFFECT[form]
         + law.COUNTRY_EFFECT[country] + law.DEVICE_EFFECT[device] + law.JOB_EFFECT[job] + law.FREE_EMAIL_EFFECT * free
         + law.WEEKDAY_EFFECT[weekday] + np.where(known, law.JOB_SIZE_EFFECT[job, np.maximum(band, 0)], 0.0)
         + law.DEVICE_FORM_EFFECT[device, form] + law.PAGES_EFFECT[0] * x + law.PAGES_EFFECT[1] * x**2
         + np.where(shown, -law.EMPLOYEES_CURVE * (np.log(np.nan_to_num(employees, nan=1.0) / law.EMPLOYEES_PEAK) ** 2
                                                  - law.EMPLOYEES_CENTRE), 0.0)
         + law.INDUSTRY_EFFECT[industry] + pressure
         - law.AD_AGE_EFFECT * np.minimum(ad_age, law.AD_AGE_CAP_DAYS) / law.AD_AGE_CAP_DAYS
         + (law.DRIFT_DOWN * ((plat == law.TIKTOK) & (device == law.MOBILE))
            + law.DRIFT_UP * ((plat == law.GOOGLE) & (form == law.CALCULATOR))) * ramp(law.CONCEPT_DRIFT_DAYS))
    p_ever = expit(z)
    mu = (np.log(law.DELAY_MEDIAN_DAYS[plat]) + law.DELAY_SIZE_SLOPE * np.where(known, band - 2, 0)
          + math.log(law.DELAY_DRIFT) * ramp(law.DELAY_DRIFT_DAYS))
    p14 = p_ever * ndtr((math.log(14) - mu) / law.DELAY_SIGMA)
    assert np.abs(p_ever - df["p_ever_true"]).max() < 1e-4
    assert np.abs(p14 - df["p_qualified_true"]).max() < 1e-4
    # the lagged ad features carry real signal
    assert np.std(pressure) > 0.15 and np.std(np.minimum(ad_age, 60) / 60 * law.AD_AGE_EFFECT) > 0.15


def test_v2_delays_slower_for_big_firms_and_lately(v2):
    df = v2["leads"]

    def fast(mask: pd.Series) -> float:  # P(delay <= 3 d | qualified within 14 d): window-closed leads only
        return ((df["delay"] <= 3) & mask).sum() / ((df["delay"] <= 14) & mask).sum()

    mature = df["mature"]
    big, small = df["company_size"] == "1000+", df["company_size"] == "1-10"
    assert fast(mature & big) < fast(mature & small) - 0.1  # what an analyst sees (LinkedIn, slow, adds to it)
    # the segment effect itself, within each platform, in the truth
    in_window = df["p_qualified_true"] / df["p_ever_true"]  # P(delay <= 14 d | segment, creation day)
    last_6_weeks = df["created_at"] >= END - pd.Timedelta(days=42)
    earlier = (df["created_at"] < END - pd.Timedelta(days=56)) & (df["created_at"] >= END - pd.Timedelta(days=120))
    for platform in ("meta", "google", "linkedin", "tiktok"):
        on = earlier & (df["platform"] == platform)
        assert in_window[on & big].mean() < in_window[on & small].mean() - 0.05, platform
    # longer in the last six weeks: observed, then in the truth within each platform
    assert fast(mature & last_6_weeks) < fast(earlier) - 0.03
    for platform in ("meta", "google", "linkedin", "tiktok"):
        on = df["platform"] == platform
        assert in_window[on & last_6_weeks].mean() < in_window[on & earlier].mean() - 0.03, platform


def test_v2_value(v2):
    df = v2["leads"]
    v, p, vq = df["value_true"], df["p_qualified_true"], df["value_if_qualified_true"]
    assert (vq > 0).all() and (df["p_ever_true"] >= p).all()
    assert (abs(v - p * vq) <= 1e-6 * (1 + vq)).all()  # up to the 6-decimal rounding of the file
    assert spearmanr(p, v).statistic < 0.97  # value is not just the probability

    won = df[df["won_at"].notna()]
    assert len(won) > 500 and won["revenue"].notna().all()
    revenue = won["revenue"]
    assert revenue.quantile(0.99) / revenue.median() >= 8  # heavy tail
    assert (won["won_at"] - won["qualified_at"]).max() <= pd.Timedelta(days=60)
    booked = df["booked_at"].notna()
    assert (df.loc[booked, "booked_at"] >= df.loc[booked, "qualified_at"]).all()
    assert (won["booked_at"].notna()).all()
    # revenue grows with headcount
    big = won["employees"].astype(float) > 1000
    small = won["employees"].astype(float) <= 20
    assert revenue[big].median() > 2 * revenue[small].median()


def _drift(df: pd.DataFrame, segment: pd.Series, control: pd.Series, strata: str, col: str = "logit_ever") -> float:
    """Change of the segment's mean `col` from before to within the drift window, minus the control's, within
    strata of `strata` (so a change in the mix of that column does not count), weighted by the segment's rows."""
    window = df["created_at"] >= END - pd.Timedelta(days=law.CONCEPT_DRIFT_DAYS - law.DRIFT_RAMP_DAYS)
    before = (df["created_at"] < END - pd.Timedelta(days=law.CONCEPT_DRIFT_DAYS + 7)) & (
        df["created_at"] >= END - pd.Timedelta(days=120))
    out, weight = 0.0, 0
    for _, rows in df.groupby(strata):
        s, c = segment[rows.index], control[rows.index]
        w, b = window[rows.index], before[rows.index]
        n = int((s & w).sum())
        if n < 20 or (c & w).sum() < 20:
            continue
        change = rows.loc[s & w, col].mean() - rows.loc[s & b, col].mean()
        control_change = rows.loc[c & w, col].mean() - rows.loc[c & b, col].mean()
        out, weight = out + n * (change - control_change), weight + n
    return out / weight


def test_v2_concept_drift_in_the_truth(v2):
    df = v2["leads"]
    tiktok, google = df["platform"] == "tiktok", df["platform"] == "google"
    mobile, calculator = df["device"] == "mobile", df["form"] == "calculator"
    down = _drift(df, tiktok & mobile, tiktok & (df["device"] == "desktop"), "form")
    up = _drift(df, google & calculator, google & (df["form"] == "short"), "device")
    assert -1.1 < down < -0.5
    assert 0.3 < up < 0.9
    placebo = _drift(df, (df["platform"] == "meta") & mobile, (df["platform"] == "meta") & (df["device"] == "desktop"),
                     "form")
    assert abs(placebo) < 0.25
    # the same drop in p_qualified_true, relative to the control
    p_down = _drift(df.assign(lq=logit(df["p_qualified_true"])), tiktok & mobile, tiktok & (df["device"] == "desktop"),
                    "form", col="lq")
    assert p_down < -0.5
