"""Reading wrk's report: units, percentiles and error lines."""

from __future__ import annotations

import pytest

from bench import wrk

pytestmark = pytest.mark.bench

REPORT = """Running 10s test @ http://127.0.0.1:8080/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    19.29ms   16.75ms   1.35s    80.99%
    Req/Sec   983.12    150.20     1.20k    70.00%
  Latency Distribution
     50%  813.00us
     75%   13.19ms
     90%   40.02ms
     99%    1.20s
  19566 requests in 10.00s, 7.04MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   1956.59
Transfer/sec:    720.80KB
"""


def test_report_is_read_in_milliseconds() -> None:
    result = wrk.parse(REPORT)
    assert (result.requests, result.seconds, result.rps) == (19566, 10.0, 1956.59)
    percentiles = (result.p50_ms, result.p75_ms, result.p90_ms, result.p99_ms)
    assert percentiles == pytest.approx((0.813, 13.19, 40.02, 1200.0))
    assert (result.socket_errors, result.non_2xx, result.failed) == (5, 4, 9)


def test_clean_run_has_no_failures() -> None:
    clean = REPORT.replace("  Socket errors: connect 0, read 2, write 0, timeout 3\n", "").replace(
        "  Non-2xx or 3xx responses: 4\n", ""
    )
    assert wrk.parse(clean).failed == 0


def test_unreadable_output_is_an_error() -> None:
    with pytest.raises(wrk.WrkError):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused")


def test_post_script_quotes_the_body() -> None:
    assert 'wrk.body = "{\\"text\\": \\"hi\\"}"' in wrk.post_script('{"text": "hi"}')


def test_load_goes_only_to_this_machine() -> None:
    with pytest.raises(wrk.WrkError):
        wrk.run("http://example.com/", seconds=1)
