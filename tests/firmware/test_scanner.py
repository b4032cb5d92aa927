"""Scanners against the real SANE ``test`` backend (python-sane), and the files scanner."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from PIL import Image

from firmware.config import FilesScannerConfig, SaneScannerConfig
from firmware.errors import (
    BadDeviceInput,
    CoverOpen,
    DeviceIOFault,
    DeviceMissing,
    DeviceTimeout,
    FeederEmpty,
    ScannerJam,
)
from firmware.scanner import FilesScanner, SaneScanner, ScannedPage, Scanner, open_scanner
from tests.support.sane import sane_options, sane_test_backend


@pytest.fixture(autouse=True)
def _sane() -> None:
    sane_test_backend()


def _scanner(**overrides: object) -> SaneScanner:
    options = sane_options(**overrides.pop("options", {}))  # type: ignore[arg-type]
    fields: dict[str, object] = {"device": "test:0", "timeout_s": 10, **overrides, "options": options}
    cfg = SaneScannerConfig.model_validate(fields)
    scanner = open_scanner(cfg)
    assert isinstance(scanner, SaneScanner)
    return scanner


def test_adf_batch_gives_ten_colour_pages_in_order() -> None:
    scanner = _scanner()
    assert isinstance(scanner, Scanner)
    pages = list(scanner.scan_batch(dpi=100, color=True))
    assert [p.index for p in pages] == list(range(1, 11))  # the test ADF holds 10 sheets
    assert all(p.side == "front" for p in pages)
    assert pages[0].image.ndim == 3 and pages[0].image.shape[2] == 3
    assert pages[0].dpi == 100
    # 40 x 60 mm at 100 dpi
    assert abs(pages[0].image.shape[1] - 157) <= 2 and abs(pages[0].image.shape[0] - 236) <= 2


def _sigpipe_ignored() -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGPIPE - 1)))
    raise AssertionError("no SigIgn line")


def test_scanning_leaves_sigpipe_ignored_so_a_dead_socket_cannot_kill_the_service() -> None:
    # libsane's reader resets SIGPIPE to "terminate"; the kiosk and sync sockets rely on EPIPE.
    assert _sigpipe_ignored()
    list(_scanner().scan_batch(dpi=50, color=True))
    assert _sigpipe_ignored()


def test_grey_mode_and_resolution() -> None:
    pages = list(_scanner().scan_batch(dpi=50, color=False))
    assert pages[0].image.ndim == 2 and not pages[0].color and pages[0].dpi == 50


def test_duplex_alternates_front_and_back() -> None:
    scanner = _scanner(duplex_source="Automatic Document Feeder")
    pages = list(scanner.scan_batch(duplex=True, dpi=50))
    assert [(p.sheet, p.side) for p in pages[:4]] == [(1, "front"), (1, "back"), (2, "front"), (2, "back")]
    assert len(pages) == 10


def test_duplex_on_a_simplex_scanner_is_refused_clearly() -> None:
    with pytest.raises(DeviceIOFault, match="no duplex source") as info:
        list(_scanner().scan_batch(duplex=True, dpi=50))
    assert "one side at a time" in (info.value.remedy or "")


def test_jam_mid_batch_keeps_pages_and_says_what_to_do() -> None:
    scanner = _scanner()
    got = []
    with pytest.raises(ScannerJam) as info:
        for page in scanner.scan_batch(dpi=50):
            got.append(page)
            if page.index == 3:  # inject a real jam in the device between sheets
                scanner.set_option("read-return-value", "SANE_STATUS_JAMMED")
    assert len(got) == 3
    assert "3 page(s)" in info.value.message and "jammed sheet" in (info.value.remedy or "")


@pytest.mark.parametrize(("status", "fault"), [
    ("SANE_STATUS_NO_DOCS", FeederEmpty),
    ("SANE_STATUS_COVER_OPEN", CoverOpen),
    ("SANE_STATUS_JAMMED", ScannerJam),
    ("SANE_STATUS_IO_ERROR", DeviceIOFault),
    ("SANE_STATUS_ACCESS_DENIED", DeviceMissing),
])
def test_injected_device_status_maps_to_typed_fault(status: str, fault: type[Exception]) -> None:
    with pytest.raises(fault) as info:
        list(_scanner(options={"read_return_value": status}).scan_batch(dpi=50))
    assert getattr(info.value, "remedy", None)


def test_hung_scanner_times_out_instead_of_hanging() -> None:
    scanner = _scanner(timeout_s=0.5, options={"read_delay": True, "read_delay_duration": 200000,
                                               "read_limit": True, "read_limit_size": 16})
    start = time.monotonic()
    with pytest.raises(DeviceTimeout, match="page 1"):
        list(scanner.scan_batch(dpi=100))
    assert time.monotonic() - start < 3
    # the device was cancelled and is usable again
    assert len(list(_scanner().scan_batch(dpi=50))) == 10


def test_missing_device_and_bad_option() -> None:
    with pytest.raises(DeviceMissing, match="test:9"):
        SaneScanner(SaneScannerConfig(device="test:9", timeout_s=5)).self_check()
    with pytest.raises(DeviceIOFault, match="no-such-option"):
        list(_scanner(options={"no_such_option": 1}).scan_batch(dpi=50))


def test_self_check_lists_sources() -> None:
    assert "Automatic Document Feeder" in _scanner().self_check()


def test_files_scanner(tmp_path: Path) -> None:
    folder = tmp_path / "feeder"
    folder.mkdir()
    for i in range(4):
        Image.new("RGB", (60, 80), (i * 50, 0, 0)).save(folder / f"{i}.png", dpi=(300, 300))
    scanner = open_scanner(FilesScannerConfig(folder=folder))
    assert isinstance(scanner, FilesScanner)
    pages = list(scanner.scan_batch(duplex=True))
    assert [(p.sheet, p.side) for p in pages] == [(1, "front"), (1, "back"), (2, "front"), (2, "back")]
    assert pages[1].image[0, 0, 0] == 50 and pages[0].dpi == pytest.approx(300, abs=1)
    (folder / "9.png").write_bytes(b"garbage")
    with pytest.raises(BadDeviceInput, match="9.png"):
        list(scanner.scan_batch())
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FeederEmpty):
        list(FilesScanner(FilesScannerConfig(folder=empty)).scan_batch())
    with pytest.raises(DeviceMissing):
        FilesScanner(FilesScannerConfig(folder=tmp_path / "nope")).self_check()


def test_the_service_process_never_loads_libsane() -> None:
    # libsane can freeze the process that loads it (an asynchronous cancel inside malloc); it runs
    # in a child process, so the kiosk and the sync never share its fate.
    assert len(list(_scanner().scan_batch(dpi=50))) == 10
    maps = Path("/proc/self/maps").read_text()
    assert "libsane" not in maps


def _signal_driver_process_at(scanner: SaneScanner, index: int, sig: signal.Signals, got: list[ScannedPage]) -> None:
    """Scan a batch into ``got``, sending ``sig`` to the driver's child process once page ``index`` arrived."""
    for page in scanner.scan_batch(dpi=50):
        got.append(page)
        if page.index == index:
            child = scanner._child  # test-side hook: the driver's child process
            assert child is not None
            os.kill(child.proc.pid, sig)


def test_a_frozen_driver_process_times_out_keeps_the_pages_and_the_next_scan_works() -> None:
    scanner = _scanner(timeout_s=1)
    got: list[ScannedPage] = []
    start = time.monotonic()
    with pytest.raises(DeviceTimeout) as info:
        _signal_driver_process_at(scanner, 2, signal.SIGSTOP, got)  # frozen, as a libsane freeze looks
    assert time.monotonic() - start < 8
    assert [p.index for p in got] == [1, 2]
    assert "page 3" in info.value.message and "2 page(s)" in info.value.message
    assert "not yet scanned" in (info.value.remedy or "")
    assert len(list(scanner.scan_batch(dpi=50))) == 10  # the same driver, a fresh child


def test_a_driver_process_that_dies_mid_batch_is_a_typed_fault_with_the_pages_kept() -> None:
    scanner = _scanner()
    got: list[ScannedPage] = []
    with pytest.raises(DeviceIOFault, match="stopped while scanning page 4") as info:
        _signal_driver_process_at(scanner, 3, signal.SIGKILL, got)
    assert [p.index for p in got] == [1, 2, 3]
    assert "3 page(s)" in info.value.message
    assert len(list(scanner.scan_batch(dpi=50))) == 10
