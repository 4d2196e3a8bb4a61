"""schedules.yaml loading: defaults, {$env} secrets, and errors that name file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_repository_schedules_yaml_is_valid() -> None:
    config = load_config(ROOT / "schedules.yaml", env={})
    assert set(config.sources) == {"mofcom", "miit", "govcn", "meti"}
    assert config.sources["meti"].timezone == "Asia/Tokyo"
    assert config.sinks["legal"]["token"] is None  # unset env -> sink will disable itself
    assert config.defaults.misfire_grace_seconds == 900


def test_env_secret_resolved(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("sinks:\n  legal: {kind: slack, token: {$env: TOK}, channel: '#x'}\n"
                    "routes:\n  - {when: {kind: [new]}, to: [legal]}\ndefault_route: [legal]\n", encoding="utf-8")
    config = load_config(path, env={"TOK": "xoxb-secret"})
    assert config.sinks["legal"]["token"] == "xoxb-secret"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("sources: [", "1: invalid YAML: expected the node content, but found '<stream end>' (fix the syntax)"),
        ("sources:\n  mofcom: {cron: '0 * *', timezone: Asia/Shanghai}\n",
         "2: sources.mofcom.cron: cron '0 * *' has 3 fields, not 5: minute hour day month day-of-week "
         "(e.g. '0 */2 * * *': minute 0 of every second hour)"),
        ("sources:\n  mofcom: {cron: '0 * * * *', timezone: Mars/Base}\n",
         "2: sources.mofcom.timezone: unknown time zone 'Mars/Base' (use an IANA name like Asia/Shanghai or Asia/Tokyo)"),
        ("sources:\n  mofcom: {timezone: Asia/Shanghai}\n",
         "2: sources.mofcom: give either cron or interval_minutes (e.g. cron: '0 */2 * * *')"),
        ("routes:\n  - {when: {}, to: [nowhere]}\n",
         "2: routes[0].to[0]: unknown sink 'nowhere' (define it under sinks:; known: console)"),
        ("sinks:\n  x: {channel: '#a'}\n", "2: sinks.x: needs a 'kind' (set kind: console, jsonl or slack)"),
        ("defaults:\n  jitter_seconds: -5\n",
         "2: defaults.jitter_seconds: Input should be greater than or equal to 0 (see README 'Configuration')"),
        ("bogus_key: 1\n",
         "1: bogus_key: unknown key (known keys: defaults, sources, sinks, routes, default_route, authority, web)"),
        ("- a\n- b\n", "1: top level must be a mapping with defaults, sources, sinks, routes"),
        ("authority: {gac: mofcom}\n",
         "1: authority.gac: unknown issuer 'gac' (issuer slugs of document keys, e.g. mofcom, gacc, miit, "
         "state-council, meti)"),
        ("authority:\n  gacc: customs\n",
         "2: authority.gacc: unknown source 'customs' (use one of govcn, meti, miit, mofcom)"),
        ("authority: [mofcom]\n", "1: authority: Input should be a valid dictionary (see README 'Configuration')"),
    ],
)
def test_broken_config_names_file_line_and_field(tmp_path: Path, text: str, line: str) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert str(err.value) == f"{path}:{line}"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_authority_overrides_extend_the_default_table(tmp_path: Path) -> None:
    from pipeline.core.authority import DEFAULT_AUTHORITY

    assert load_config(None).authority == DEFAULT_AUTHORITY
    assert DEFAULT_AUTHORITY["gacc"] == "mofcom" and DEFAULT_AUTHORITY["state-council"] == "govcn"
    path = tmp_path / "s.yaml"
    path.write_text("authority: {gacc: govcn, ndrc: govcn}\n", encoding="utf-8")
    table = load_config(path, env={}).authority
    assert table == {**DEFAULT_AUTHORITY, "gacc": "govcn", "ndrc": "govcn"}
    assert table["miit"] == "miit"  # entries not overridden keep their default


def test_no_path_gives_defaults() -> None:
    config = load_config(None)
    assert config.default_route == ["console"]
    assert config.defaults.max_consecutive_failures == 3


def test_a_bad_route_condition_fails_at_load_not_at_delivery(tmp_path: Path) -> None:
    path = tmp_path / "schedules.yaml"
    path.write_text("routes:\n  - {when: {sevrity: warning}, to: [console]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"routes\[0\]\.when\.sevrity: unknown condition"):
        load_config(path, env={})
