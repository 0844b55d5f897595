from datetime import timedelta

import pytest
from plutarc_compute.leadtime import LeadTimes, LeadTimeSettings, ProviderLead, p95


def test_defaults_until_enough_wakes_are_measured() -> None:
    lead = LeadTimes()
    assert lead.lead("local") == timedelta(seconds=30)
    assert lead.lead("aws") == timedelta(minutes=5)
    assert lead.lead("gcp") == timedelta(minutes=5)  # unknown provider
    for _ in range(4):
        lead.record("local", 2_000)
    assert lead.lead("local") == timedelta(seconds=30)
    assert lead.measured("local") == 4


def test_p95_times_factor_plus_margin() -> None:
    lead = LeadTimes(LeadTimeSettings(factor=2.0, margin_seconds=5, min_samples=1))
    for ms in range(1_000, 21_000, 1_000):  # 1 s .. 20 s: p95 (nearest rank) is 19 s
        lead.record("local", ms)
    assert lead.seconds("local") == 19 * 2.0 + 5


def test_never_below_the_floor() -> None:
    lead = LeadTimes(LeadTimeSettings(min_samples=1, margin_seconds=0))
    lead.record("local", 100)
    assert lead.seconds("local") == 10.0
    lead.record("aws", 1_000)
    assert lead.seconds("aws") == 120.0


def test_the_window_forgets_old_wakes() -> None:
    lead = LeadTimes(LeadTimeSettings(window=10, min_samples=1, factor=1, margin_seconds=0))
    lead.record("local", 60_000)
    assert lead.seconds("local") == 60
    for _ in range(10):
        lead.record("local", 12_000)
    assert lead.seconds("local") == 12


def test_a_new_measurement_recomputes_the_cached_lead() -> None:
    lead = LeadTimes(LeadTimeSettings(min_samples=1, factor=1, margin_seconds=0))
    lead.record("local", 20_000)
    assert lead.lead("local") == timedelta(seconds=20)
    lead.record("local", 40_000)
    assert lead.lead("local") == timedelta(seconds=40)


def test_settings_are_checked_and_providers_configurable() -> None:
    with pytest.raises(ValueError):
        LeadTimeSettings(factor=0.5)
    with pytest.raises(ValueError):
        LeadTimes().record("local", -1)
    settings = LeadTimeSettings(providers={"hetzner": ProviderLead(default=90, floor=45)})
    assert LeadTimes(settings).snapshot() == {"hetzner": 90}


def test_p95_is_a_measured_value() -> None:
    assert p95([5.0]) == 5.0
    assert p95([float(i) for i in range(1, 101)]) == 95.0
