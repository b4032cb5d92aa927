"""The text hygiene rule (``service.domain.text``) applied to a submitted form, for the kiosk UI."""

from __future__ import annotations

from collections.abc import Mapping

from service.domain.text import hygiene_problem

#: Form fields the rule does not apply to (secrets are compared, never stored or shown).
EXEMPT = frozenset({"csrf_token", "password", "pin"})


def form_problem(form: Mapping[str, str], *, exempt: frozenset[str] = EXEMPT) -> str | None:
    """The first field that breaks the rule (control, bidi, zero-width characters, too long), or None.

    Review forms name fields ``<component>__<field>``; the field part selects the length limit.
    """
    for name, value in form.items():
        if name in exempt:
            continue
        field_name = name.rpartition("__")[2]
        field_name = "mismatch_reason" if field_name == "mismatch" else field_name
        if hygiene_problem(field_name, value) is not None:
            return field_name
    return None
