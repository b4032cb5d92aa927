"""The operator panel: capture / next buttons, a foot pedal, status LEDs (PWM) and a buzzer (gpiozero).

Pins come from :class:`~firmware.config.PanelConfig` (BCM numbers, ``None`` = not fitted).
Buttons are wired to ground (internal pull-up): pressing drives the pin low.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any, Literal

from firmware.config import PanelConfig
from firmware.errors import DeviceBusy, DeviceFault, DeviceMissing

log = logging.getLogger(__name__)

ButtonName = Literal["capture", "next", "pedal"]
PanelState = Literal["off", "ready", "busy", "error"]
BUTTONS: tuple[ButtonName, ...] = ("capture", "next", "pedal")


def mock_pin_factory() -> Any:
    """A gpiozero MockFactory whose pins support PWM (for tests and machines without GPIO)."""
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    return MockFactory(pin_class=MockPWMPin)


class Panel:
    """Buttons with callbacks, status LEDs and a buzzer; :meth:`set_state` and :meth:`set_card` drive the lights."""

    def __init__(self, config: PanelConfig, pin_factory: Any = None) -> None:
        """Claim the configured pins; raises DeviceMissing/DeviceBusy when GPIO is unusable."""
        self.config = config
        self.name = "panel(gpio)"
        try:
            gz = importlib.import_module("gpiozero")
        except ImportError as exc:
            raise DeviceMissing("panel", "gpiozero is not installed", remedy="pip install gpiozero") from exc
        if pin_factory is None and config.pin_factory == "mock":
            pin_factory = mock_pin_factory()
        self._factory = pin_factory
        self._callbacks: dict[ButtonName, list[Callable[[ButtonName], None]]] = {b: [] for b in BUTTONS}
        self._devices: list[Any] = []
        self.state: PanelState = "off"
        try:
            self.buttons: dict[ButtonName, Any] = {}
            pins: dict[ButtonName, int | None] = {"capture": config.capture_button, "next": config.next_button,
                                                  "pedal": config.foot_pedal}
            for name, pin in pins.items():
                if pin is not None:
                    button = gz.Button(pin, pull_up=True, bounce_time=config.bounce_time_s or None,
                                       pin_factory=pin_factory)
                    button.when_pressed = self._dispatcher(name)
                    self.buttons[name] = button
                    self._devices.append(button)
            self.leds: dict[str, Any] = {}
            for led, pin in (("ready", config.led_ready), ("busy", config.led_busy), ("error", config.led_error),
                             ("card", config.led_card)):
                if pin is not None:
                    self.leds[led] = gz.PWMLED(pin, pin_factory=pin_factory)
                    self._devices.append(self.leds[led])
            self.buzzer: Any = gz.Buzzer(config.buzzer, pin_factory=pin_factory) if config.buzzer is not None else None
            if self.buzzer is not None:
                self._devices.append(self.buzzer)
        except DeviceFault:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise self._map(exc) from exc

    @staticmethod
    def _map(exc: Exception) -> DeviceFault:
        """The typed fault for a gpiozero error."""
        kind = type(exc).__name__
        if kind in ("GPIOPinInUse", "PinInUse"):
            return DeviceBusy("panel", f"a panel pin is already in use ({exc})",
                              remedy="stop the other program using GPIO, or fix devices.panel pins")
        return DeviceMissing("panel", f"GPIO is not usable here ({kind}: {exc})",
                             remedy="on the Pi install lgpio/rpi-lgpio; elsewhere set devices.panel.pin_factory: mock")

    def _dispatcher(self, name: ButtonName) -> Callable[[], None]:
        def fire() -> None:
            for callback in list(self._callbacks[name]):
                try:
                    callback(name)
                except Exception:  # a faulty handler must not kill the GPIO thread
                    log.exception("panel: handler for %s failed", name)
        return fire

    def on_press(self, button: ButtonName, callback: Callable[[ButtonName], None]) -> None:
        """Call ``callback(button)`` each time ``button`` is pressed (the pedal acts like 'capture' if wired so)."""
        if button not in self._callbacks:
            raise ValueError(f"unknown button {button!r}; expected one of {BUTTONS}")
        self._callbacks[button].append(callback)

    def set_state(self, state: PanelState) -> None:
        """Show ``state``: ready = green steady, busy = amber pulsing, error = red blinking + 3 beeps."""
        self.state = state
        for name, led in self.leds.items():
            if name != "card":
                led.off()
        if state == "ready" and "ready" in self.leds:
            self.leds["ready"].on()
        elif state == "busy" and "busy" in self.leds:
            self.leds["busy"].pulse(fade_in_time=0.5, fade_out_time=0.5)
        elif state == "error":
            if "error" in self.leds:
                self.leds["error"].blink(on_time=0.3, off_time=0.3)
            self.beep(3)

    def set_card(self, present: bool) -> None:
        """Light the card LED (steady) while the officer's card is in the reader."""
        led = self.leds.get("card")
        if led is not None:
            (led.on if present else led.off)()

    def beep(self, times: int = 1, on_time: float = 0.08, off_time: float = 0.08) -> None:
        """Sound the buzzer ``times`` times in the background (no-op without a buzzer)."""
        if self.buzzer is not None:
            self.buzzer.beep(on_time=on_time, off_time=off_time, n=times, background=True)

    def self_check(self) -> str:
        """Describe the fitted parts, reading every pin once (a dead pin factory raises here)."""
        try:
            pressed = [name for name, button in self.buttons.items() if button.is_pressed]
        except Exception as exc:
            raise self._map(exc) from exc
        if pressed:
            raise DeviceBusy("panel", f"button(s) held down during self-test: {', '.join(pressed)}",
                             remedy="release the buttons and pedal; check for a stuck switch or a short")
        return (f"buttons: {', '.join(self.buttons) or 'none'}; LEDs: {', '.join(self.leds) or 'none'}; "
                f"buzzer: {'yes' if self.buzzer is not None else 'no'}")

    def close(self) -> None:
        """Release every pin; safe to call twice."""
        for device in self._devices:
            try:
                device.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                log.debug("panel: closing %s failed", device)
        self._devices = []
