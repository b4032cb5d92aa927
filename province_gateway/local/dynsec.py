"""The broker's rules as Mosquitto dynamic-security roles: checked at SUBSCRIBE, at PUBLISH and at delivery.

The ACL file of Mosquitto 2.0 only filters *delivery* (a forbidden subscription is granted and then
silently starves, and a ``$share/...`` subscription steals other devices' messages). The
dynamic-security plugin (Debian ``mosquitto`` ships it) refuses the SUBSCRIBE itself
(SUBACK ``Not authorized``) and refuses a PUBLISH outside the role (PUBACK 135).

Every device is a dynsec client named by its certificate CN (``use_identity_as_username``) with a
role of its own whose topics are *literal*: ``sohoa/v1/{province}/{device}/...``. The province is
therefore bound to the identity in the broker's registry: a device of province 70 cannot publish as
01. A certificate of the CA that was never enrolled connects but may do nothing (all denied by
default). Gateways share the role ``sohoa-gateway``; one ``broker-admin`` identity may send
``$CONTROL/dynamic-security/v1`` commands (live enrolment and revocation).
"""

from __future__ import annotations

import glob
import json
import re
from pathlib import Path
from typing import Any

PLUGIN_GLOB = "/usr/lib/*/mosquitto_dynamic_security.so"
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = "$CONTROL/dynamic-security/v1/response"
GATEWAY_ROLE = "sohoa-gateway"
ADMIN_ROLE = "sohoa-broker-admin"
ADMIN_USER = "broker-admin"
DEVICE_RE = re.compile(r"[a-z0-9][a-z0-9-]{2,62}")
PROVINCE_RE = re.compile(r"[0-9]{2}")


def plugin_path() -> str:
    """Where Debian installs the dynamic-security plugin (any architecture)."""
    found = sorted(glob.glob(PLUGIN_GLOB))
    if not found:
        raise RuntimeError("mosquitto_dynamic_security.so not found: install the Debian package mosquitto (>= 2.0)")
    return found[0]


def check_device(device: str, province: str) -> None:
    """Refuse an identity or province that is not a whole, valid protocol identifier."""
    if not DEVICE_RE.fullmatch(device):
        raise ValueError("a device id is 3-63 characters of a-z, 0-9 and '-' (the certificate CN)")
    if not PROVINCE_RE.fullmatch(province):
        raise ValueError("a province code is two digits")


def _acl(kind: str, topic: str) -> dict[str, Any]:
    return {"acltype": kind, "topic": topic, "priority": 0, "allow": True}


def device_role_name(device: str) -> str:
    """The dynsec role of one device."""
    return f"device:{device}"


def device_acls(device: str, province: str) -> list[dict[str, Any]]:
    """A device publishes under its own ``up`` and reads only its own ``down`` (literal province)."""
    check_device(device, province)
    base = f"sohoa/v1/{province}/{device}"
    return [_acl("publishClientSend", f"{base}/up/#"), _acl("publishClientReceive", f"{base}/down/#"),
            _acl("subscribePattern", f"{base}/down/#"), _acl("unsubscribePattern", f"{base}/down/#")]


def gateway_acls(group: str = "gw") -> list[dict[str, Any]]:
    """Gateways: shared (and monitoring) subscriptions to every uplink, publish any device's downlink."""
    return [_acl("publishClientSend", "sohoa/v1/+/+/down/#"), _acl("publishClientReceive", "sohoa/v1/+/+/up/#"),
            _acl("subscribePattern", f"$share/{group}/sohoa/v1/+/+/up/#"),
            _acl("subscribePattern", "sohoa/v1/+/+/up/#"),
            _acl("unsubscribePattern", f"$share/{group}/sohoa/v1/+/+/up/#"),
            _acl("unsubscribePattern", "sohoa/v1/+/+/up/#")]


def admin_acls() -> list[dict[str, Any]]:
    """The broker admin may only talk to the dynsec control topic."""
    return [_acl(k, "$CONTROL/dynamic-security/#")
            for k in ("publishClientSend", "publishClientReceive", "subscribePattern", "unsubscribePattern")]


def initial_config(gateways: list[str], group: str = "gw") -> dict[str, Any]:
    """A dynsec configuration: deny by default, the admin and the gateway identities, no device yet."""
    clients = [{"username": ADMIN_USER, "roles": [{"rolename": ADMIN_ROLE}]}]
    clients += [{"username": g, "roles": [{"rolename": GATEWAY_ROLE}]} for g in gateways]
    return {
        "defaultACLAccess": {"publishClientSend": False, "publishClientReceive": False,
                             "subscribe": False, "unsubscribe": False},
        "clients": clients, "groups": [], "anonymousGroup": "",
        "roles": [{"rolename": ADMIN_ROLE, "acls": admin_acls()},
                  {"rolename": GATEWAY_ROLE, "acls": gateway_acls(group)}],
    }


def commands_enrol_device(device: str, province: str) -> list[dict[str, Any]]:
    """Control commands that (re)create a device's client and role (deleting first kicks a live session)."""
    role = device_role_name(device)
    return [{"command": "deleteClient", "username": device}, {"command": "deleteRole", "rolename": role},
            {"command": "createRole", "rolename": role, "acls": device_acls(device, province)},
            {"command": "createClient", "username": device, "roles": [{"rolename": role}]}]


def commands_add_gateway(name: str) -> list[dict[str, Any]]:
    """Control commands that add one more gateway identity."""
    return [{"command": "deleteClient", "username": name},
            {"command": "createClient", "username": name, "roles": [{"rolename": GATEWAY_ROLE}]}]


def apply_offline(path: Path, commands: list[dict[str, Any]]) -> None:
    """Apply control commands to the configuration file while the broker is stopped."""
    cfg = json.loads(path.read_text(encoding="utf-8"))
    for cmd in commands:
        kind = cmd["command"]
        if kind == "deleteClient":
            cfg["clients"] = [c for c in cfg["clients"] if c["username"] != cmd["username"]]
        elif kind == "deleteRole":
            cfg["roles"] = [r for r in cfg["roles"] if r["rolename"] != cmd["rolename"]]
        elif kind == "createRole":
            cfg["roles"].append({"rolename": cmd["rolename"], "acls": cmd["acls"]})
        elif kind == "createClient":
            cfg["clients"].append({"username": cmd["username"], "roles": cmd["roles"]})
        else:
            raise ValueError(f"unsupported offline command {kind}")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(cfg, indent=1), encoding="utf-8")
    tmp.replace(path)


def enrolled_devices(path: Path) -> dict[str, str]:
    """Device id → province of every enrolled (not disabled) device in a configuration file."""
    cfg = json.loads(path.read_text(encoding="utf-8"))
    roles = {r["rolename"]: r for r in cfg["roles"]}
    out: dict[str, str] = {}
    for c in cfg["clients"]:
        role = roles.get(device_role_name(c["username"]))
        if role and not c.get("disabled"):
            out[c["username"]] = role["acls"][0]["topic"].split("/")[2]
    return out
