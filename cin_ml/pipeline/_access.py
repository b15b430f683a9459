"""Scoring by role (``cin-ml predict``): school, CSS, ministry."""

from __future__ import annotations

from pathlib import Path

from cin_ml.pipeline._common import Progress, _quiet
from cin_ml.pipeline._consent import _agreements_for, _css_ids, _use_purpose
from cin_ml.run_contract import VersionTag


def _restrict_to_css(tables: dict, css_ids) -> dict:
    """The tables of ``css_ids`` only (the others' data is never processed)."""
    keep = set(css_ids)
    st = tables["students"]
    st = st.loc[st["css_id"].astype(str).isin(keep)]
    ids = set(st["student_id"])
    out = {}
    for name, df in tables.items():
        if name == "students":
            out[name] = st
        elif "student_id" in df.columns:
            out[name] = df.loc[df["student_id"].isin(ids)]
        elif "css_id" in df.columns:
            out[name] = df.loc[df["css_id"].astype(str).isin(keep)]
        else:
            out[name] = df
    return out


def _model_datasets(features) -> list[str]:
    """Datasets a model's inputs come from (``academic`` always: population, marks)."""
    from cin_ml.features import feature_sources
    from cin_ml.schema import TABLES

    found = {"academic"}
    for f in features:
        found.update(TABLES[t].dataset for t, _ in feature_sources(f) if t in TABLES)
    return sorted(found)


def _published_cohort(cohort: dict, report) -> dict:
    """The cohort summary of an aggregate report with its counts as the report publishes
    them (``None`` where hidden): the manifest is an output too."""
    grand = report.grand_totals()
    return {**cohort, "n_students": grand["n_students"], "n_flagged": grand["n_at_risk"]}


def _governed(served, tracking_uri, demo_key: bool = False):
    """``served`` as the governance history has it: a cin-ml model whose alias and version
    tags agree with the verified history and whose model files are those pinned at
    registration (PolicyError otherwise), with the history's tags and the booster loaded
    from the checked bytes (``served.model``: score with nothing else)."""
    import dataclasses

    from cin_ml.errors import GovernanceError, PolicyError
    from cin_ml.pipeline._governance import _governance_ctx
    from cin_ml.registry import served_version

    try:
        ok = served_version(_governance_ctx(tracking_uri=tracking_uri, demo_key=demo_key),
                            served.name, served.alias)
    except GovernanceError as exc:
        raise PolicyError(str(exc)) from None
    if (ok["version"], ok["run_id"]) != (served.version, served.run_id):
        raise PolicyError(f"{served.ref}: the registry changed while it was read; retry")
    return dataclasses.replace(served, tags=ok["tags"], model=ok["booster"],
                               notes=tuple(ok["notes"]))


_PREDICT_TABLES = ("css", "students", "enrolments", "marks", "absences", "intervention_plans",
                   "schools", "ministry_exams", "outcomes")


def run_predict(model: str, data: Path | str, role: str, scope: str, *,
                out: Path | str = "reports", agreements: Path | str | None = None,
                lang: str | None = None, config: Path | str | None = None,
                features_config: Path | str | None = None, tracking_uri: str | None = None,
                on_date=None, demo_key: bool = False, progress: Progress = _quiet) -> dict:
    """Score ``data`` with the registered model ``NAME@ALIAS`` for one role and scope.

    - ``school`` (scope: a school id): the school's students ranked by risk, with band,
      reasons and an explanation sheet each (``sheets/``), and the school's tables;
    - ``css`` (scope: a CSS id): aggregates by school and grade, no student row;
    - ``ministry`` (scope: ``network`` or a CSS id): aggregates by CSS over the CSS whose
      agreements cover the model's datasets for the purpose (the others' data is dropped
      before scoring); small cells suppressed with complementary suppression.

    Writes ``<out>/predict/<role>-<scope>/`` atomically: ``report.html`` (in ``lang``),
    one page per school (``schools/<id>.html``, CSS) or CSS (``css/<id>.html``, ministry)
    linked from its summary table, ``risk.csv`` / ``.parquet``, ``results.csv`` /
    ``.parquet``, ``students.*`` (school), ``sheets/`` (school) and ``manifest.json``.
    Aggregate outputs are scanned for identifiers and small
    cells before anything is written.
    """
    import dataclasses
    import json

    from cin_ml.access import (
        ROLES,
        attack_tables,
        css_report,
        explain_scored,
        identifier_values,
        load_access_settings,
        ministry_report,
        render_pages,
        scan_frames,
        scan_text,
        school_report,
        score_cohort,
    )
    from cin_ml.consent import check_consent
    from cin_ml.errors import ConfigError, DataError, PolicyError
    from cin_ml.extract import atomic_dir, read_extract, write_csv, write_json_atomic
    from cin_ml.features import load_feature_settings
    from cin_ml.tracking import load_run_bundle, resolve_served_model, resolve_store

    settings = load_access_settings(config)
    if role not in ROLES:
        raise ConfigError(f"--role {role!r}: expected one of {', '.join(ROLES)}")
    rs = settings.role(role)
    lang = lang or rs.lang
    if lang not in ("fr", "en"):
        raise ConfigError(f"--lang must be fr or en; got {lang!r}")
    if not scope or "/" in scope or scope.startswith("."):
        raise ConfigError(f"--scope {scope!r}: expected a school id, a CSS id or 'network'")
    data = Path(data)
    store = resolve_store(tracking_uri)
    served = resolve_served_model(model, store)
    if served.alias not in settings.serving.aliases:
        raise PolicyError(f"{served.ref}: only {', '.join(settings.serving.aliases)} may be "
                          f"scored for a role ([serving] aliases in access.toml)")
    served = _governed(served, tracking_uri, demo_key)
    if (settings.serving.refuse_invalid_consent
            and served.tags.get(VersionTag.CONSENT_STATE) == "invalid"):
        raise PolicyError(f"{served.ref} (v{served.version}) is flagged by the governance "
                          f"check: {served.tags.get(VersionTag.CONSENT_FLAG) or 'consent invalid'}")
    progress(f"{served.ref} is version {served.version} (run {served.run_id})")
    for note in served.notes:
        progress(note)
    bundle = load_run_bundle(served.run_id, store, model=served.model)
    tables = read_extract(data, _PREDICT_TABLES, required=_PREDICT_TABLES[1:7])
    meta: dict = {"model": {**served.to_dict(), "task": bundle.task},
                  "data": str(data.resolve()), "role": role, "scope": scope}
    if role == "school":
        sch = tables["schools"].assign(school_id=tables["schools"]["school_id"].astype(str))
        if scope not in set(sch["school_id"]):
            raise DataError(f"school {scope!r} is not in {data}/schools.parquet")
        css_of = str(sch.set_index("school_id").loc[scope, "css_id"])
        tables = _restrict_to_css(tables, [css_of])
    elif role == "css":
        known = _css_ids(tables, data)
        if scope not in known:
            raise DataError(f"CSS {scope!r} is not in {data} (known: {', '.join(known[:8])})")
        tables = _restrict_to_css(tables, [scope])
    else:
        registry, source = _agreements_for(data, agreements)
        datasets = _model_datasets(bundle.features)
        purpose = _use_purpose(config)
        consenting, excluded, used = [], {}, []
        for css in _css_ids(tables, data):
            chk = check_consent(registry, [css], datasets, purpose, on_date)
            if chk.ok:
                consenting.append(css)
                used.extend(chk.agreement_ids)
            else:
                excluded[css] = "; ".join(f"{g.dataset}: {g.detail}" for g in chk.missing)
        meta["consent"] = {"purpose": purpose, "datasets": datasets, "source": source,
                           "agreements": sorted(used), "excluded": excluded}
        progress(f"{len(consenting)} CSS with valid agreements, {len(excluded)} excluded")
        if scope != "network" and scope not in consenting:
            why = excluded.get(scope, "not in the extract")
            raise PolicyError(f"ministry scope {scope!r}: no valid data-use agreement covers "
                              f"{', '.join(datasets)} for {purpose!r} ({why})")
        if not consenting:
            raise PolicyError("ministry report: no CSS in the extract has a valid data-use "
                              "agreement for this use; nothing may be published")
        css_names = _css_names(tables)  # the excluded CSS are named, their data dropped
        tables = _restrict_to_css(tables, consenting)
    progress(f"scoring {len(tables['students']):,} students' extract with {served.ref}")
    cohort = score_cohort(bundle, tables, settings.bands, load_feature_settings(features_config))
    meta["cohort"] = cohort.to_dict()
    ref = f"{served.ref} (v{served.version})"
    sheets: dict[str, str] = {}
    if role == "school":
        from cin_ml.explain import load_explain_settings, render_sheet

        es, sheet_cfg = load_explain_settings()
        ids = list(cohort.frame.index[cohort.frame["school_id"] == scope])
        progress(f"explaining {len(ids)} students of school {scope}")
        exps = explain_scored(bundle, cohort, ids, top_k=rs.top_reasons, explain_settings=es)
        report = school_report(cohort, tables, scope, settings.bands, explanations=exps,
                               lang=lang, min_cell_size=rs.min_cell_size)
        contact = getattr(sheet_cfg, f"contact_{lang}")
        id_kind = _id_kind(tables)
        sheets = {s: render_sheet(e, lang=lang, task=bundle.task, contact=contact,
                                  model_ref=ref, id_kind=id_kind,
                                  materiality_points=es.materiality_points)
                  for s, e in exps.items()}
        report = dataclasses.replace(report, sheets=sheets)
    elif role == "css":
        report = css_report(cohort, tables, scope, settings.bands,
                            min_cell_size=rs.min_cell_size)
    else:
        report = ministry_report(cohort, tables, consenting, excluded, settings.bands,
                                 scope=scope, min_cell_size=rs.min_cell_size)
        report = dataclasses.replace(report, names={**css_names, **report.names})
    if role == "school":  # the list's own counts (the cohort scored is the whole extract)
        here = cohort.frame["school_id"] == scope
        meta["scope_counts"] = {"n_students": int(here.sum()),
                                "n_flagged": int(cohort.frame.loc[here, "flagged"].sum())}
    pages = render_pages(report, lang=lang, model_ref=ref)
    if role != "school":
        ids = identifier_values(tables)
        findings = scan_frames(report.tables, ids, rs.min_cell_size) + [
            f"{name}: {f}" for name, html in pages.items() for f in scan_text(html, ids)]
        progress("attacking the report's tables (subtraction, zeros, combinations)")
        leak = attack_tables(report.tables, rs.min_cell_size)
        if leak:
            findings.append(f"the attacker recovers {len(leak.values)} hidden count(s) and "
                            f"{len(leak.whole_groups)} whole group(s)")
        meta["cohort"] = _published_cohort(meta["cohort"], report)
        if findings:
            raise PolicyError(f"{role} report for {scope} not published: "
                              + "; ".join(findings))
    target = Path(out) / "predict" / f"{role}-{scope}"
    with atomic_dir(target) as tmp:
        for name, html in pages.items():  # report.html, and schools/ or css/ pages
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_text(html, encoding="utf-8")
        for name, df in report.tables.items():
            write_csv(df, tmp / f"{name}.csv")
            df.to_parquet(tmp / f"{name}.parquet", index=False)
        for sid, page in sheets.items():
            (tmp / "sheets").mkdir(exist_ok=True)
            (tmp / "sheets" / f"{sid}.{lang}.html").write_text(page, encoding="utf-8")
        write_json_atomic(tmp / "manifest.json", {**meta, "report": report.to_dict()})
    progress(f"wrote {target}")
    return json.loads(json.dumps({**report.to_dict(), **meta, "out": str(target),
                                  "html": str(target / "report.html")}, default=str))


def _css_names(tables) -> dict[str, str]:
    """Public names of the extract's CSS by id (empty when the extract has none)."""
    css = tables.get("css")
    if css is None or "css_name" not in css.columns:
        return {}
    return dict(zip(css["css_id"].astype(str), css["css_name"].astype(str), strict=True))


def _id_kind(tables) -> str:
    """What a scored extract's student ids are: the school's own record numbers when the
    extract still carries direct identifiers (source form), else keyed pseudonyms."""
    from cin_ml.schema import TABLES, Role

    st = tables["students"]
    direct = [c.name for c in TABLES["students"].columns
              if c.role == Role.DIRECT_IDENTIFIER and c.name != "student_id"]
    return "record" if any(c in st.columns for c in direct) else "pseudonym"
