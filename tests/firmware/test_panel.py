"""The GPIO panel on gpiozero's MockFactory: drive pins, check callbacks, LEDs and buzzer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from firmware.config import PanelConfig
from firmware.errors import DeviceBusy, DeviceMissing
from firmware.panel import Panel, mock_pin_factory


@pytest.fixture
def factory() -> Iterator[Any]:
    f = mock_pin_factory()
    yield f
    f.reset()


def _eventually(check: Callable[[], bool], timeout_s: float = 3.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()


def _press(factory: Any, pin: int) -> None:
    factory.pin(pin).drive_low()
    factory.pin(pin).drive_high()
    time.sleep(0.07)  # past the debounce window


def test_buttons_call_their_handlers(factory: Any) -> None:
    panel = Panel(PanelConfig(), pin_factory=factory)
    got: list[str] = []
    panel.on_press("capture", got.append)
    panel.on_press("next", got.append)
    panel.on_press("pedal", got.append)
    _press(factory, 17)
    _press(factory, 27)
    _press(factory, 22)
    assert got == ["capture", "next", "pedal"]
    panel.close()


def test_a_failing_handler_does_not_stop_the_others(factory: Any) -> None:
    panel = Panel(PanelConfig(), pin_factory=factory)
    got: list[str] = []

    def broken(_: str) -> None:
        raise RuntimeError("handler bug")

    panel.on_press("capture", broken)
    panel.on_press("capture", got.append)
    _press(factory, 17)
    assert got == ["capture"]
    with pytest.raises(ValueError, match="unknown button"):
        panel.on_press("power", got.append)  # type: ignore[arg-type]
    panel.close()


def test_status_lights_and_buzzer(factory: Any) -> None:
    panel = Panel(PanelConfig(), pin_factory=factory)
    panel.set_state("ready")
    assert factory.pin(5).state == 1.0 and factory.pin(6).state == 0 and factory.pin(13).state == 0
    panel.set_state("busy")
    assert _eventually(lambda: 0 < factory.pin(6).state < 1)  # pulsing (PWM)
    assert factory.pin(5).state == 0
    panel.set_state("error")
    assert _eventually(lambda: [s.state for s in factory.pin(19).states].count(True) >= 3)  # three beeps
    assert _eventually(lambda: any(s.state for s in factory.pin(13).states))  # the error LED blinked
    assert factory.pin(6).state == 0
    panel.set_state("off")
    assert all(factory.pin(p).state == 0 for p in (5, 6, 13))
    panel.close()


def test_unfitted_parts_are_skipped(factory: Any) -> None:
    panel = Panel(PanelConfig(foot_pedal=None, buzzer=None, led_busy=None), pin_factory=factory)
    assert "pedal" not in panel.buttons and panel.buzzer is None
    panel.set_state("busy")
    panel.beep()
    assert "buzzer: no" in panel.self_check()
    panel.close()


def test_pin_conflicts_and_stuck_buttons_are_typed_faults(factory: Any) -> None:
    panel = Panel(PanelConfig(), pin_factory=factory)
    with pytest.raises(DeviceBusy, match="already in use"):
        Panel(PanelConfig(), pin_factory=factory)
    factory.pin(22).drive_low()  # pedal held down / shorted
    with pytest.raises(DeviceBusy, match="pedal"):
        panel.self_check()
    factory.pin(22).drive_high()
    assert "capture, next, pedal" in panel.self_check()
    panel.close()
    panel.close()


def test_non_pwm_factory_is_reported_not_crashing() -> None:
    from gpiozero.pins.mock import MockFactory

    plain = MockFactory()  # pins without PWM: PWMLED cannot work
    with pytest.raises(DeviceMissing, match="GPIO is not usable"):
        Panel(PanelConfig(), pin_factory=plain)
    plain.reset()


def test_mock_pin_factory_from_config() -> None:
    panel = Panel(PanelConfig(pin_factory="mock"))
    panel.set_state("ready")
    assert panel.leds["ready"].value == 1.0
    panel.close()


def test_card_led_is_independent_of_the_state_lights() -> None:
    panel = Panel(PanelConfig(pin_factory="mock"))
    panel.set_card(True)
    panel.set_state("busy")
    assert panel.leds["card"].value == 1.0 and panel.leds["ready"].value == 0
    panel.set_state("ready")
    assert panel.leds["card"].value == 1.0 and panel.leds["ready"].value == 1.0
    panel.set_card(False)
    assert panel.leds["card"].value == 0 and panel.leds["ready"].value == 1.0
    panel.close()
