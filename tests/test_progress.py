"""Progress: plain log lines with counts in batch jobs, a rich bar on a terminal."""

import logging

import pytest

import sstfill.progress as progress_module
from sstfill.progress import progress, track


def test_batch_jobs_get_log_lines_with_counts_and_shares(monkeypatch, caplog):
    monkeypatch.setattr(progress_module, "is_interactive", lambda: False)
    with (caplog.at_level(logging.INFO, logger="sstfill"),
          progress(40, "reconstructing (tiles)", log_every_s=0.0) as advance):
        advance(8)
        advance(32)
    assert [r.getMessage() for r in caplog.records] == ["reconstructing (tiles): 8/40 (20%)",
                                                        "reconstructing (tiles): 40/40 (100%)"]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sstfill"):
        assert list(track(iter("abc"), description="months", log_every_s=0.0)) == ["a", "b", "c"]
    assert caplog.records[-1].getMessage() == "months: 3/?"


def test_no_log_lines_more_often_than_asked(monkeypatch, caplog):
    monkeypatch.setattr(progress_module, "is_interactive", lambda: False)
    with caplog.at_level(logging.INFO, logger="sstfill"):
        assert list(track(range(1000), description="fast")) == list(range(1000))
    assert not caplog.records


@pytest.mark.parametrize("total", [5, None])
def test_a_terminal_gets_a_bar_and_every_item(monkeypatch, total):
    monkeypatch.setattr(progress_module, "is_interactive", lambda: True)
    assert list(track(range(5), total=total, description="bar")) == list(range(5))
