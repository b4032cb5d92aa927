"""XMP for the produced PDF/A: PDF/A identification, Dublin Core, and the Art. 9 fields.

The Art. 9 fields go in a custom namespace (:data:`NS_URI`) described by a PDF/A extension
schema (ISO 19005-2 §6.6.2.3.2), which keeps the file conforming. pikepdf's allowlist validator
does not read extension schemas, so :func:`is_declared_extension_finding` tells the validator
wrapper which of its findings are exactly these declared properties and nothing else.
"""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape

from service.domain.fields import ART9_FIELDS, Metadata

NS_URI = "urn:sohoa-edge:ns:tt01-2023-art9:1.0/"
NS_PREFIX = "sohoa"
_EXT_NAMESPACES = {
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


#: Custom property name -> description. Every property written is declared here.
PROPERTIES: dict[str, str] = {
    "resultCode": "Digitization result code (TT 01/2023 Art. 10)",
    "documentTypeCode": "Document type code (TT 01/2023 Art. 9)",
    **{_camel(n): f"Art. 9 field {n}" for n in ART9_FIELDS},
    "metadataJson": "All Art. 9 fields with source and confidence, as JSON",
}


def art9_properties(metadata: Metadata, result_code: str) -> dict[str, str]:
    """The custom-namespace properties for one document (only fields that have a value)."""
    props = {"resultCode": result_code, "documentTypeCode": metadata.document_type_code}
    for name in ART9_FIELDS:
        fv = metadata.get(name)
        if fv is not None and fv.value:
            props[_camel(name)] = fv.value
    props["metadataJson"] = json.dumps(metadata.to_json(), ensure_ascii=False, sort_keys=True)
    return props


def extension_block(props: dict[str, str]) -> str:
    """The rdf:Description elements: the extension schema and the property values."""
    declared = "".join(
        '<rdf:li rdf:parseType="Resource">'
        f"<pdfaProperty:name>{name}</pdfaProperty:name>"
        "<pdfaProperty:valueType>Text</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{escape(PROPERTIES[name])}</pdfaProperty:description>"
        "</rdf:li>"
        for name in PROPERTIES
    )
    ns_attrs = " ".join(f'xmlns:{p}="{u}"' for p, u in _EXT_NAMESPACES.items())
    schema = (
        f'<rdf:Description rdf:about="" {ns_attrs}>'
        '<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">'
        "<pdfaSchema:schema>sohoa-edge TT 01/2023 Art. 9 metadata</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{NS_URI}</pdfaSchema:namespaceURI>"
        f"<pdfaSchema:prefix>{NS_PREFIX}</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{declared}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
    )
    values = "".join(f"<{NS_PREFIX}:{k}>{escape(v)}</{NS_PREFIX}:{k}>" for k, v in props.items())
    data = f'<rdf:Description rdf:about="" xmlns:{NS_PREFIX}="{NS_URI}">{values}</rdf:Description>'
    return schema + data


def inject(xmp: str, props: dict[str, str]) -> str:
    """Add the extension schema and values to an XMP packet (before ``</rdf:RDF>``)."""
    if "</rdf:RDF>" not in xmp:
        raise ValueError("XMP packet has no rdf:RDF element")
    unknown = set(props) - set(PROPERTIES)
    if unknown:
        raise ValueError(f"undeclared XMP properties: {sorted(unknown)}")
    return xmp.replace("</rdf:RDF>", extension_block(props) + "</rdf:RDF>", 1)


_NS_FINDING = re.compile(r"^XMP namespace (\w+)=(\S+) is not permitted$")
_PROP_FINDING = re.compile(r"^XMP property (\w+):(\w+) is not permitted$")


def is_declared_extension_finding(rule: str, message: str) -> bool:
    """True only for an allowlist finding about our extension schema or a property it declares."""
    if not rule.endswith("6.6.2.3.1-1"):
        return False
    m = _NS_FINDING.match(message)
    if m:
        prefix, uri = m.groups()
        return (prefix, uri) in {*_EXT_NAMESPACES.items(), (NS_PREFIX, NS_URI)}
    m = _PROP_FINDING.match(message)
    if m:
        prefix, name = m.groups()
        return (prefix == "pdfaExtension" and name == "schemas") or (prefix == NS_PREFIX and name in PROPERTIES)
    return False
