"""QR reader and ESC/POS printer over real pty pairs (the test plays the device)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.config import EscposSerialPrinterConfig, SerialQrReaderConfig
from firmware.errors import BadDeviceInput, CoverOpen, DeviceIOFault, DeviceMissing, DeviceTimeout, PaperOut
from firmware.serial_devices import QrReader, ReceiptPrinter, parse_status, render_text
from tests.support.pty import FakeEscposPrinter, PtyPair

CCCD_QR = "001099012345|123456789|Nguyễn Văn An|01011990|Nam|Số 1, Phường Tân Phú, Đồng Xoài|01012021"


@pytest.fixture
def pair() -> Iterator[PtyPair]:
    with PtyPair() as p:
        yield p


@pytest.fixture
def reader(pair: PtyPair) -> Iterator[QrReader]:
    r = QrReader(SerialQrReaderConfig(port=pair.port, timeout_s=0.4, max_line_bytes=256))
    r.open()
    yield r
    r.close()


def test_reads_a_vietnamese_id_card_qr(pair: PtyPair, reader: QrReader) -> None:
    pair.write(CCCD_QR.encode() + b"\r\n")
    assert reader.read_code() == CCCD_QR


def test_lines_split_across_writes_and_several_per_write(pair: PtyPair, reader: QrReader) -> None:
    pair.write(b"H70-2611")
    time.sleep(0.05)
    pair.write(b"23-0001\nSECOND\r\n\n")
    assert reader.read_code() == "H70-261123-0001"
    assert reader.read_code() == "SECOND"
    assert reader.read_code(0.1) is None


def test_no_scan_returns_none_within_the_timeout(reader: QrReader) -> None:
    start = time.monotonic()
    assert reader.read_code(0.3) is None
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize(("data", "match"), [
    (b"\xff\xfe\xfd\n", "not valid UTF-8"),
    (b"abc\x00\x07def\n", "control characters"),
    (b"x" * 300 + b"\n", "longer than 256"),
])
def test_garbage_lines_are_refused_and_the_next_code_still_reads(pair: PtyPair, reader: QrReader,
                                                                 data: bytes, match: str) -> None:
    pair.write(data + b"GOOD-CODE\n")
    with pytest.raises(BadDeviceInput, match=match) as info:
        reader.read_code()
    assert info.value.remedy
    assert reader.read_code() == "GOOD-CODE"


def test_endless_stream_without_newline_is_cut_off(pair: PtyPair, reader: QrReader) -> None:
    pair.write(b"y" * 1000)
    with pytest.raises(BadDeviceInput, match="longer than"):
        reader.read_code()
    pair.write(b"y" * 500 + b"\nAFTER\n")  # the rest of the oversized line is discarded
    assert reader.read_code() == "AFTER"


def test_unterminated_code_is_refused_not_waited_for(pair: PtyPair, reader: QrReader) -> None:
    pair.write(b"HALF")
    start = time.monotonic()
    with pytest.raises(BadDeviceInput, match="never ended"):
        reader.read_code(2.0)
    assert time.monotonic() - start < 1.5


def test_missing_port(tmp_path: Path) -> None:
    with pytest.raises(DeviceMissing, match="cannot open"):
        QrReader(SerialQrReaderConfig(port=str(tmp_path / "ttyNONE"))).read_code()


@pytest.fixture
def printer_pair() -> Iterator[tuple[PtyPair, FakeEscposPrinter, ReceiptPrinter]]:
    with PtyPair() as p:
        device = FakeEscposPrinter(p)
        device.start()
        printer = ReceiptPrinter(EscposSerialPrinterConfig(port=p.port, timeout_s=0.5))
        yield p, device, printer
        printer.close()
        device.stop()


def test_printer_status_and_receipt(printer_pair: tuple[PtyPair, FakeEscposPrinter, ReceiptPrinter]) -> None:
    _, device, printer = printer_pair
    status = printer.status()
    assert status.online and not status.cover_open and status.paper == "ok"
    printer.print_receipt(["PHIẾU TIẾP NHẬN HỒ SƠ", "Mã hồ sơ: H70.22-261123-0001"], qr="H70.22-261123-0001")
    time.sleep(0.2)
    sent = device.data()
    assert b"\x10\x04\x01" in sent and b"\x10\x04\x04" in sent
    assert b"\x1dv0" in sent  # raster bit image (text + QR rendered as images)
    assert sent.rstrip().endswith(b"\x1dVA\x00") or b"\x1dV" in sent  # paper cut
    assert len(sent) > 2000


@pytest.mark.parametrize(("status", "fault", "field"), [
    ({4: 0x72}, PaperOut, "paper"),
    ({2: 0x16}, CoverOpen, "cover"),
    ({1: 0x1A}, DeviceIOFault, "offline"),
])
def test_printer_refuses_to_print_when_not_ready(printer_pair: tuple[PtyPair, FakeEscposPrinter, ReceiptPrinter],
                                                 status: dict[int, int], fault: type[Exception], field: str) -> None:
    _, device, printer = printer_pair
    device.status.update(status)
    with pytest.raises(fault):
        printer.print_receipt(["x"])
    time.sleep(0.1)
    assert b"\x1dv0" not in device.data()  # nothing printed


def test_low_paper_still_prints(printer_pair: tuple[PtyPair, FakeEscposPrinter, ReceiptPrinter]) -> None:
    _, device, printer = printer_pair
    device.status[4] = 0x1E
    assert printer.print_receipt(["ok"]).paper == "low"


def test_silent_printer_times_out(printer_pair: tuple[PtyPair, FakeEscposPrinter, ReceiptPrinter]) -> None:
    _, device, printer = printer_pair
    device.silent = True
    start = time.monotonic()
    with pytest.raises(DeviceTimeout, match="no answer"):
        printer.status()
    assert time.monotonic() - start < 2


def test_garbage_status_byte(printer_pair: tuple[PtyPair, FakeEscposPrinter, ReceiptPrinter]) -> None:
    _, device, printer = printer_pair
    device.status[1] = 0xFF
    with pytest.raises(BadDeviceInput, match="not an ESC/POS status"):
        printer.self_check()


def test_parse_status_bits() -> None:
    assert parse_status(0x12, 0x12, 0x12).fault() is None
    assert parse_status(0x12, 0x52, 0x12).error


def test_missing_printer(tmp_path: Path) -> None:
    with pytest.raises(DeviceMissing):
        ReceiptPrinter(EscposSerialPrinterConfig(port=str(tmp_path / "ttyNONE"))).status()


def test_render_text_wraps_vietnamese() -> None:
    img = render_text(["Ủy ban nhân dân xã Thử Nghiệm " * 4], width_px=384)
    assert img.width == 384 and img.height > 3 * 28


def test_unplugged_reader_is_an_io_fault() -> None:
    pair = PtyPair()
    reader = QrReader(SerialQrReaderConfig(port=pair.port, timeout_s=0.5))
    reader.open()
    pair.write(b"FIRST\n")
    assert reader.read_code() == "FIRST"
    pair.close()  # the device side disappears
    with pytest.raises((DeviceIOFault, DeviceMissing)) as info:
        for _ in range(3):
            reader.read_code(0.3)
    assert info.value.remedy
    reader.close()


def test_wedged_printer_times_out_instead_of_blocking() -> None:
    with PtyPair() as pair:
        device = FakeEscposPrinter(pair, stall_after=3)  # answers the status, then takes no more data
        device.start()
        printer = ReceiptPrinter(EscposSerialPrinterConfig(port=pair.port, timeout_s=0.5, write_timeout_s=0.5))
        start = time.monotonic()
        with pytest.raises(DeviceTimeout, match="stopped taking data"):
            printer.print_receipt([f"Dòng {i}: Ủy ban nhân dân xã Thử Nghiệm" for i in range(400)], qr="x" * 100)
        assert time.monotonic() - start < 5
        printer.close()
        device.stop()


def test_qr_too_dense_for_the_paper_is_refused_before_printing() -> None:
    with PtyPair() as pair:
        device = FakeEscposPrinter(pair)
        device.start()
        narrow = ReceiptPrinter(EscposSerialPrinterConfig(port=pair.port, timeout_s=0.5), width_px=256)
        with pytest.raises(BadDeviceInput, match="too dense"):
            narrow.print_receipt(["x"], qr="Đ" * 1000)
        with pytest.raises(BadDeviceInput, match="cannot be encoded"):
            narrow.print_receipt(["x"], qr="x" * 5000)
        time.sleep(0.1)
        assert device.data() == b""  # not even a status query: nothing half-printed
        narrow.close()
        device.stop()


def test_qr_image_decodes_back() -> None:
    import zxingcpp

    from firmware.serial_devices.printer import qr_image

    content = "H70.22-261123-0001|2.000305.000.00.00.H70|001099012345|Giấy khai sinh"
    img = qr_image(content, 384, 6)
    assert img.width <= 384
    assert [r.text for r in zxingcpp.read_barcodes(img.convert("L"))] == [content]


@pytest.mark.parametrize(("paper_mm", "dots"), [(80, 576), (58, 384)])
def test_print_a_wide_rasterised_receipt(paper_mm: int, dots: int) -> None:
    from PIL import Image

    with PtyPair() as p:
        device = FakeEscposPrinter(p)
        device.start()
        printer = ReceiptPrinter(EscposSerialPrinterConfig(port=p.port, timeout_s=0.5, paper_mm=paper_mm))
        page = Image.new("L", (1240, 600), 255)  # an A-series page raster, far wider than the paper
        assert printer.print_images([page]).paper == "ok"
        time.sleep(0.2)
        sent = device.data()
        printer.close()
        device.stop()
    i = sent.index(b"\x1dv0")
    assert int.from_bytes(sent[i + 4:i + 6], "little") == dots // 8  # GS v 0: width in bytes = paper width


@pytest.mark.parametrize("paper_mm", [80, 58])
def test_vietnamese_slip_reads_back_from_the_raster(paper_mm: int) -> None:
    """What the printer receives decodes (GS v 0 headers) to the paper's width with the QR readable."""
    import zxingcpp

    from provisioning.simdevices import raster_blocks, raster_images

    qr = '{"ma_ho_so":"000.00.70.H99-261202-0001","ten_giay_to":"Giấy tiếp nhận hồ sơ và hẹn trả kết quả"}'
    with PtyPair() as p:
        device = FakeEscposPrinter(p)
        device.start()
        printer = ReceiptPrinter(EscposSerialPrinterConfig(port=p.port, timeout_s=0.5, paper_mm=paper_mm))
        printer.print_receipt(["GIẤY TIẾP NHẬN HỒ SƠ", "Ông/Bà: Nguyễn Thị Ẩn", "Hẹn trả: ngày 09/12/2026"], qr=qr)
        time.sleep(0.2)
        sent = device.data()
        printer.close()
        device.stop()
    blocks = raster_blocks(sent)
    assert len(blocks) == 2 and all(b.mode == 0 for b in blocks)  # QR image, then the text image
    assert max(b.width_bytes for b in blocks) * 8 <= {80: 576, 58: 384}[paper_mm]
    slip = raster_images(sent)
    assert slip is not None
    assert [c.text for c in zxingcpp.read_barcodes(slip.convert("L"))] == [qr]
    text = blocks[1].image.convert("L")
    assert text.getextrema() == (0, 255)  # the text block holds printed dots (rendered, no code page)


def test_a_cut_off_raster_job_is_refused() -> None:
    from provisioning.simdevices import raster_blocks

    with pytest.raises(ValueError, match="cut short"):
        raster_blocks(b"\x1dv0\x00\x30\x00\x10\x00" + b"\x00" * 20)  # 48x16 bytes announced, 20 sent
