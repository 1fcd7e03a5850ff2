"""Offline conversions for Google Ads and Meta: which leads go out at which value and when, the platforms' columns and
formats, hashing that never lets a raw e-mail or phone number out, and the command, the asset and the dashboard on
the session's demo run."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from elv_assets.build import Build, Skip
from elv_assets.cli import main
from elv_assets.contracts.inputs import LEAD_CONTACT_COLUMNS
from elv_assets.defs.exports import offline_conversions
from elv_assets.defs.resources import build_resources
from elv_assets.lakehouse.manifest import read_manifest, snapshot_path
from elv_assets.ml.features import lead_attribute_columns
from elv_assets.reports.conversions import (
    DEFAULTS,
    FILES,
    FOLDER,
    GOOGLE_COLUMNS,
    META_COLUMNS,
    NO_GCLID,
    NO_SCORES_ROWS,
    READS,
    ExportOptions,
    build_offline_conversions,
    export_from_warehouse,
    fetch_candidates,
    platform_export,
)
from elv_assets_tests.conftest import settings_in
from elv_assets_tests.helpers import query

AS_OF = dt.date(2026, 7, 10)
OTHER_NO_GCLID = "from another platform's campaign, without a gclid"
OTHER_NO_FBCLID = "from another platform's campaign, without an fbclid"
TOO_LATE = "won more than 90 days after the click (Google's limit)"
NOT_A_CLICK_ID = "with a gclid that is not a click id"
HEX64 = r"[0-9a-f]{64}"
APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- a hand-made warehouse whose right answers are worked out by hand -----------------------------------------------

LEADS = [  # lead_id, created_at, campaign_id, gclid, fbclid, email, phone, elv
    ("L1", "2026-07-08 09:30:00", "g1", "Cj0KCQiAabc_-123", None, "l1@firm.io", "+44 7700 900001", 123.456),
    ("L2", "2026-07-09 23:30:00", "g1", None, None, None, None, 10.0),  # a Google lead whose gclid was not kept
    ("L3", "2026-07-10 12:00:00", "m1", None, "IwAR0abc", " Jane.Doe@Example.COM ", "+44 (0)7700 900123", 50.0),
    ("L4", "2026-06-01 08:00:00", "g1", "Cj0Old", None, None, None, 80.0),  # created before the window, won in it
    ("L5", "2026-01-01 08:00:00", None, "Cj0VeryOld", None, "sam@x.io", "0044 20 7946 0958", 5.0),  # won 189 days on
    ("L6", "2026-07-05 10:00:00", "t1", None, None, None, None, 7.0),  # TikTok: neither platform's click
    ("L7", "2026-07-04 00:00:00", "g1", '=HYPERLINK("http://x")', None, None, None, 9.0),  # first day of the window
    ("L8", "2026-07-03 23:59:59", "g1", "Cj0TooEarly", None, None, None, 1.0),  # the day before the window
    ("L9", "2026-07-06 18:45:00", "m1", None, None, "not an email", "07700 900456", 20.0),  # national number: no country
]
OUTCOMES = [("L4", "2026-07-09 15:00:00", 2500.5), ("L5", "2026-07-09 16:00:00", 900.0)]
ADS = [("g1", "google", "EUR"), ("g1", "google", "EUR"), ("m1", "meta", None), ("t1", "tiktok", "EUR")]


def hand_world(path: Path | str = ":memory:") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    for schema in ("gold", "silver"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute(f"CREATE TABLE gold.as_of_date AS SELECT DATE '{AS_OF}' AS as_of_date")
    con.execute("CREATE TABLE silver.leads (lead_id VARCHAR, created_at TIMESTAMP, campaign_id VARCHAR, gclid VARCHAR, "
                "fbclid VARCHAR, email VARCHAR, phone VARCHAR, form VARCHAR)")
    con.executemany("INSERT INTO silver.leads VALUES (?, ?, ?, ?, ?, ?, ?, 'long')", [r[:7] for r in LEADS])
    con.execute("CREATE TABLE gold.lead_scores AS SELECT lead_id, created_at, campaign_id, 0.5 AS p_qualified_14d, "
                "0.0::DOUBLE AS elv FROM silver.leads")
    for lead_id, *_, elv in LEADS:
        con.execute("UPDATE gold.lead_scores SET elv = ? WHERE lead_id = ?", [elv, lead_id])
    con.execute("CREATE TABLE silver.outcomes (lead_id VARCHAR, qualified_at TIMESTAMP, won_at TIMESTAMP, revenue DOUBLE)")
    con.executemany("INSERT INTO silver.outcomes VALUES (?, NULL, ?, ?)", OUTCOMES)
    con.execute("CREATE TABLE silver.ads (campaign_id VARCHAR, platform VARCHAR, currency VARCHAR)")
    con.executemany("INSERT INTO silver.ads VALUES (?, ?, ?)", ADS)
    return con


def hand_export(platform: str, options: ExportOptions = DEFAULTS, con=None):
    con = con or hand_world()
    return platform_export(fetch_candidates(con, options, AS_OF), platform, options, AS_OF)


def test_contact_columns_are_never_features():
    silver = ["lead_id", "created_at", "campaign_id", "form", "device", *LEAD_CONTACT_COLUMNS]
    assert lead_attribute_columns(silver) == ["form", "device"]
    assert set(LEAD_CONTACT_COLUMNS) == {"gclid", "fbclid", "email", "phone"}


def test_google_rows_are_new_leads_at_their_elv_and_won_deals_at_their_revenue():
    export = hand_export("google")
    assert list(export.rows.columns) == GOOGLE_COLUMNS
    assert export.rows.to_dict("records") == [
        {"Google Click ID": "Cj0KCQiAabc_-123", "Conversion Name": "ELV lead",
         "Conversion Time": "2026-07-08 09:30:00+0000", "Conversion Value": "123.46", "Conversion Currency": "EUR"},
        {"Google Click ID": "Cj0Old", "Conversion Name": "Won deal",
         "Conversion Time": "2026-07-09 15:00:00+0000", "Conversion Value": "2500.50", "Conversion Currency": "EUR"},
    ]
    assert export.per_kind == {"predicted": 1, "won": 1}


def test_leads_without_a_gclid_are_counted_not_sent():
    left_out = hand_export("google").left_out
    # L2: a Google lead without its gclid; L3, L9 (Meta) and L6 (TikTok): another platform's, without one
    assert left_out == {NO_GCLID: 1, OTHER_NO_GCLID: 3, NOT_A_CLICK_ID: 1, TOO_LATE: 1}
    summary = "\n".join(hand_export("google").summary())
    assert "1 lead without a Google click id (gclid)" in summary and "3 leads from another platform's" in summary
    assert "=HYPERLINK" not in hand_export("google").csv_text()  # not a click id: never reaches a spreadsheet


def test_meta_rows_carry_the_lead_id_and_only_hashes_of_the_normalised_email_and_phone():
    export = hand_export("meta")
    rows = export.rows
    assert list(rows.columns) == META_COLUMNS
    assert rows["lead_id"].tolist() == ["L9", "L5", "L3"]  # in time order; L1, L2, L4, L6, L7 are other platforms'
    by_lead = rows.set_index("lead_id")
    assert by_lead.loc["L3", "email"] == sha("jane.doe@example.com")  # trimmed and lower-cased
    assert by_lead.loc["L3", "phone"] == sha("447700900123")  # digits with the country code, the (0) dropped
    assert by_lead.loc["L5", "phone"] == sha("442079460958")  # 00 44 ...: no leading zeros
    assert by_lead.loc["L9", "email"] == "" and by_lead.loc["L9", "phone"] == ""  # not an e-mail; no country code
    assert by_lead.loc["L5", "event_name"] == "Won deal" and by_lead.loc["L5", "value"] == "900.00"
    assert by_lead.loc["L3", "event_time"] == int(dt.datetime(2026, 7, 10, 12, tzinfo=dt.timezone.utc).timestamp())
    assert by_lead.loc["L5", "currency"] == "EUR"  # the most common currency of ads.csv
    assert export.left_out == {OTHER_NO_FBCLID: 5}
    text = export.csv_text()
    for raw in ("Jane.Doe", "jane.doe@example.com", "sam@x.io", "7700 900123", "447700900123", "not an email"):
        assert raw not in text


def test_time_zone_window_kind_names_and_currency_are_configurable():
    london = ExportOptions(timezone="Europe/London")
    assert hand_export("google", london).rows["Conversion Time"].tolist() == [
        "2026-07-08 09:30:00+0100", "2026-07-09 15:00:00+0100"]
    meta = hand_export("meta", london).rows.set_index("lead_id")
    assert meta.loc["L3", "event_time"] == int(dt.datetime(2026, 7, 10, 11, tzinfo=dt.timezone.utc).timestamp())

    won = hand_export("google", ExportOptions(kind="won", won_name="Closed deal"))
    assert won.rows["Conversion Name"].tolist() == ["Closed deal"] and won.per_kind == {"won": 1}
    since = hand_export("google", ExportOptions(kind="predicted", since=dt.date(2026, 7, 9)))
    assert since.rows.empty and since.left_out == {NO_GCLID: 1, OTHER_NO_GCLID: 1}  # L2 and L3 only
    wide = hand_export("google", ExportOptions(kind="predicted", window_days=8))
    assert wide.left_out[NOT_A_CLICK_ID] == 1 and "Cj0TooEarly" in wide.rows["Google Click ID"].tolist()

    con = hand_world()
    con.execute("UPDATE silver.ads SET currency = NULL")
    assert set(hand_export("google", ExportOptions(default_currency="USD"), con).rows["Conversion Currency"]) == {"USD"}
    with pytest.raises(ValueError, match="unknown time zone"):
        ExportOptions(timezone="Mars/Olympus")


def test_the_asset_writes_both_files_atomically_and_skips_without_lead_scores(tmp_path):
    con = hand_world()
    paths = SimpleNamespace(serving_dir=str(tmp_path))
    built = build_offline_conversions(Build("serving/offline_conversions", READS, con, paths=paths,
                                            as_of=lambda: AS_OF, log=lambda m: None))
    folder = tmp_path / FOLDER
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES.values())  # no temporary file left behind
    assert built.metadata["google_rows"] == 2 and built.metadata["meta_rows"] == 3
    assert built.metadata["google_left_out"][NO_GCLID] == 1
    assert "jane" not in json.dumps(built.metadata, default=str).lower()

    con.execute("DELETE FROM gold.lead_scores")
    with pytest.raises(Skip, match="gold.lead_scores is empty"):
        build_offline_conversions(Build("serving/offline_conversions", READS, con, paths=paths, as_of=lambda: AS_OF))


def test_the_command_says_what_to_run_without_a_warehouse_or_lead_scores(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ELV_WAREHOUSE", str(tmp_path / "none.duckdb"))
    assert main(["export-conversions", "--platform", "google", "--out", str(tmp_path / "g.csv")]) == 1
    err = capsys.readouterr().err
    assert "no warehouse" in err and "make demo" in err and "elv run" in err

    hand_world(tmp_path / "w.duckdb").close()
    monkeypatch.setenv("ELV_WAREHOUSE", str(tmp_path / "w.duckdb"))
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("DELETE FROM gold.lead_scores")
    con.close()
    assert main(["export-conversions", "--platform", "meta", "--out", str(tmp_path / "m.csv")]) == 1
    assert NO_SCORES_ROWS in capsys.readouterr().err
    assert not (tmp_path / "m.csv").exists()
    assert main(["export-conversions", "--platform", "meta", "--out", str(tmp_path / "m.csv"), "--since", "07/10"]) == 2


def test_a_crm_without_click_ids_gets_an_empty_google_file_and_says_why(tmp_path, monkeypatch, capsys):
    con = hand_world(tmp_path / "w.duckdb")
    con.execute("ALTER TABLE silver.leads DROP COLUMN gclid")  # a warehouse built from a leads.csv without one
    con.close()
    monkeypatch.setenv("ELV_WAREHOUSE", str(tmp_path / "w.duckdb"))
    assert main(["export-conversions", "--platform", "google", "--out", str(tmp_path / "g.csv")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Wrote 0 Google Ads conversions") and "no lead in leads.csv has a gclid" in out
    assert (tmp_path / "g.csv").read_text() == ",".join(GOOGLE_COLUMNS) + "\n"


# --- the session's demo run ------------------------------------------------------------------------------------------


def raw_contacts(demo_run) -> tuple[set[str], set[str]]:
    leads = pd.read_csv(demo_run.settings.data_dir / "leads.csv", usecols=["email", "phone"], dtype=str)
    return set(leads["email"].dropna()), set(leads["phone"].dropna())


def text_leaks(text: str, emails: set[str], phones: set[str]) -> set[str]:
    """The raw e-mails and phone numbers of the demo world found in a text."""
    found = set(re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text)) & emails
    return found | (set(re.findall(r"\+\d{1,3}(?: \d+)+", text)) & phones)


def demo_as_of(demo_run) -> dt.date:
    return pd.Timestamp(query(demo_run.settings, "SELECT as_of_date FROM gold.as_of_date").iloc[0, 0]).date()


def test_the_files_have_the_platforms_documented_columns_and_formats(demo_run):
    folder = Path(demo_run.settings.serving_dir) / FOLDER
    as_of = demo_as_of(demo_run)
    start, end = as_of - dt.timedelta(days=6), as_of + dt.timedelta(days=1)

    google = pd.read_csv(folder / FILES["google"], comment="#", dtype=str, keep_default_na=False)
    assert list(google.columns) == GOOGLE_COLUMNS and len(google) > 50
    assert google["Google Click ID"].str.fullmatch(r"Cj0KCQiA[A-Za-z0-9_-]{60}").all()
    assert google["Conversion Name"].isin(["ELV lead", "Won deal"]).all()
    assert google["Conversion Time"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4}").all()
    times = pd.to_datetime(google["Conversion Time"], format="%Y-%m-%d %H:%M:%S%z")
    assert times.min() >= pd.Timestamp(start, tz="UTC") and times.max() < pd.Timestamp(end, tz="UTC")
    assert google["Conversion Value"].str.fullmatch(r"\d+\.\d\d").all()
    assert (google["Conversion Currency"] == "GBP").all()

    meta = pd.read_csv(folder / FILES["meta"], dtype=str, keep_default_na=False)
    assert list(meta.columns) == META_COLUMNS and len(meta) > 50
    assert meta["event_time"].str.fullmatch(r"\d{10}").all()
    seconds = meta["event_time"].astype(int)
    assert seconds.min() >= pd.Timestamp(start, tz="UTC").timestamp()
    assert seconds.max() < pd.Timestamp(end, tz="UTC").timestamp()
    assert meta["value"].str.fullmatch(r"\d+\.\d\d").all() and (meta["currency"] == "GBP").all()
    for column in ("email", "phone"):
        assert meta[column].str.fullmatch(f"{HEX64}|").all()
        assert (meta[column] != "").mean() > 0.8  # the demo leaves 10 % of e-mails and phones blank

    # predicted values are the leads' ELV at creation; won values the revenue
    scores = query(demo_run.settings, "SELECT lead_id, elv FROM gold.lead_scores").set_index("lead_id")["elv"]
    predicted = meta[meta["event_name"] == "ELV lead"]
    assert predicted["value"].astype(float).to_numpy() == pytest.approx(
        scores.loc[predicted["lead_id"]].round(2).to_numpy(), abs=0.006)
    assert (meta["event_name"] == "Won deal").any() and (google["Conversion Name"] == "Won deal").any()


def test_hashes_match_the_raw_values_and_no_raw_value_is_written_anywhere(demo_run):
    emails, phones = raw_contacts(demo_run)
    leads = pd.read_csv(demo_run.settings.data_dir / "leads.csv", usecols=["lead_id", "email", "phone"], dtype=str)
    leads = leads.drop_duplicates("lead_id", keep="last")  # as silver keeps them
    meta = pd.read_csv(Path(demo_run.settings.serving_dir) / FOLDER / FILES["meta"], dtype=str, keep_default_na=False)
    raw = leads.set_index("lead_id").loc[meta["lead_id"]]
    expected_email = raw["email"].map(lambda e: sha(e.strip().lower()) if isinstance(e, str) else "")
    expected_phone = raw["phone"].map(lambda p: sha(re.sub(r"\D", "", p).lstrip("0")) if isinstance(p, str) else "")
    assert (meta["email"].to_numpy() == expected_email.to_numpy()).all()
    assert (meta["phone"].to_numpy() == expected_phone.to_numpy()).all()

    # the upload files, every table and document of the serving snapshot, and the run's metadata
    texts = {p.name: p.read_text() for p in (Path(demo_run.settings.serving_dir) / FOLDER).iterdir()}
    manifest = read_manifest(demo_run.settings.serving_dir)
    folder = snapshot_path(demo_run.settings.serving_dir, manifest)
    for name, entry in manifest["tables"].items():
        table = pd.read_parquet(folder / entry["file"])
        texts[f"snapshot/{name}"] = table.select_dtypes(include="object").to_csv(index=False)
    for name, file in manifest["documents"].items():
        texts[f"snapshot/{name}"] = (folder / file).read_text()
    for event in demo_run.result.get_asset_materialization_events():
        mat = event.materialization
        texts[f"metadata/{mat.asset_key.to_user_string()}"] = repr({k: v.value for k, v in mat.metadata.items()})
    for check in demo_run.result.get_asset_check_evaluations():
        texts[f"check/{check.asset_key.to_user_string()}/{check.check_name}"] = repr(
            {k: v.value for k, v in check.metadata.items()}) + str(check.description)
    assert "snapshot/conversions" in texts and "metadata/silver/leads" in texts
    leaks = {where: sorted(text_leaks(text, emails, phones))[:3] for where, text in texts.items()}
    assert not {where: found for where, found in leaks.items() if found}

    profile = query(demo_run.settings, "SELECT column_name, min_value, max_value FROM monitoring.data_quality_report "
                                       "WHERE kind = 'profile' AND table_name = 'silver.leads'").set_index("column_name")
    assert profile.loc[list(LEAD_CONTACT_COLUMNS)].isna().all().all()


def test_the_contact_columns_stay_in_silver_and_out_of_gold_and_the_models(demo_run):
    silver = query(demo_run.settings, "SELECT count(gclid), count(fbclid), count(email), count(phone) FROM silver.leads")
    assert (silver.iloc[0] > 1000).all()
    for table in ("gold.lead_features", "gold.training_table", "gold.lead_scores", "gold.lead_attribution"):
        cols = set(query(demo_run.settings, f"SELECT * FROM {table} LIMIT 0").columns)
        assert not cols & set(LEAD_CONTACT_COLUMNS), table


def test_leads_without_a_gclid_in_the_demo_are_counted(demo_run):
    as_of = demo_as_of(demo_run)
    export = export_from_warehouse(demo_run.settings.warehouse, "google")
    expected = query(demo_run.settings, f"""
        WITH window_leads AS (
            SELECT lead_id FROM gold.lead_scores WHERE created_at::DATE BETWEEN DATE '{as_of}' - 6 AND DATE '{as_of}'
            UNION SELECT lead_id FROM silver.outcomes WHERE won_at::DATE BETWEEN DATE '{as_of}' - 6 AND DATE '{as_of}')
        SELECT count(*) FILTER (WHERE l.gclid IS NULL) AS without, count(*) FILTER (WHERE l.gclid IS NOT NULL) AS with
        FROM window_leads JOIN silver.leads l USING (lead_id)""").iloc[0]
    assert export.left_out[NO_GCLID] + export.left_out[OTHER_NO_GCLID] == expected["without"] > 0
    assert set(export.left_out) <= {NO_GCLID, OTHER_NO_GCLID, TOO_LATE}
    assert len(export.rows["Google Click ID"].unique()) + export.left_out.get(TOO_LATE, 0) == expected["with"]


def test_the_command_exports_both_platforms_from_the_warehouse_read_only(demo_run, tmp_path, monkeypatch, capsys):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_run.settings.warehouse, warehouse)
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    monkeypatch.setenv("ELV_WAREHOUSE", str(warehouse))
    asset_files = Path(demo_run.settings.serving_dir) / FOLDER
    for platform in ("google", "meta"):
        out = tmp_path / f"{platform}.csv"
        assert main(["export-conversions", "--platform", platform, "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        rows = len(pd.read_csv(out, comment="#"))
        assert printed.startswith(f"Wrote {rows:,} ") and "left out: " in printed
        assert platform == "meta" or "without a Google click id (gclid)" in printed
        assert out.read_text() == (asset_files / FILES[platform]).read_text()  # the asset's defaults, the same rows
    assert main(["export-conversions", "--platform", "google", "--out", str(tmp_path / "won.csv"), "--kind", "won",
                 "--since", str(demo_as_of(demo_run) - dt.timedelta(days=30))]) == 0
    won = pd.read_csv(tmp_path / "won.csv", dtype=str)
    assert len(won) > 0 and (won["Conversion Name"] == "Won deal").all()
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before  # read-only
    duckdb.connect(str(warehouse)).close()  # and closed: a writer can open it


def test_the_asset_in_dagster_logs_and_records_no_raw_contact_details(demo_run, tmp_path):
    settings = settings_in(tmp_path, demo_run.settings.data_dir)
    shutil.copy(demo_run.settings.warehouse, settings.warehouse)
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([offline_conversions], resources=build_resources(settings), instance=instance)
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    assert metadata["google_rows"] > 0 and metadata["meta_rows"] > 0 and "skipped" not in metadata
    logs = "\n".join(e.user_message for e in instance.all_logs(result.run_id))
    assert "conversions" in logs and "left out" in logs
    emails, phones = raw_contacts(demo_run)
    assert not text_leaks(logs + repr(metadata), emails, phones)
    assert (Path(settings.serving_dir) / FOLDER / FILES["google"]).read_text() == (
        Path(demo_run.settings.serving_dir) / FOLDER / FILES["google"]).read_text()


def test_the_leads_page_offers_the_same_files_as_the_command(demo_run, monkeypatch, tmp_path):
    settings = demo_run.settings
    manifest = read_manifest(settings.serving_dir)
    candidates = pd.read_parquet(snapshot_path(settings.serving_dir, manifest) / manifest["tables"]["conversions"]["file"])
    counts = {}
    for platform in ("google", "meta"):
        export = platform_export(candidates, platform)
        assert export.csv_text() == (Path(settings.serving_dir) / FOLDER / FILES[platform]).read_text()
        counts[platform] = len(export.rows)

    monkeypatch.delenv("LLM_ENDPOINT", raising=False)
    monkeypatch.setenv("ELV_DEMO_DIR", str(tmp_path / "demo"))
    monkeypatch.setenv("ELV_SERVING_DIR", str(settings.serving_dir))
    monkeypatch.setenv("ELV_ARTIFACTS_DIR", str(settings.artifacts_dir))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("views/leads.py").run()
    assert not at.exception and not at.error
    labels = [b.proto.label for b in at.get("download_button")]
    assert f"Google Ads: {counts['google']:,} conversions" in labels and f"Meta: {counts['meta']:,} conversions" in labels
    assert any(c.value.startswith("Left out: ") and NO_GCLID in c.value for c in at.caption)
