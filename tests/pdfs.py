"""Small PDFs built in tests with pypdf's writer: a CJK text layer, image-only pages, encryption."""

from __future__ import annotations

import io

from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject

# CID = Unicode code point (Identity-H), mapped back to Unicode by a ToUnicode CMap: how a
# Chinese PDF's text layer reads, without embedding a font.
_CMAP = b"""/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
1 beginbfrange <0000> <FFFF> <0000> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end"""


def _stream(writer: PdfWriter, data: bytes, **entries) -> object:
    stream = DecodedStreamObject()
    stream.set_data(data)
    for key, value in entries.items():
        stream[NameObject("/" + key)] = value
    return writer._add_object(stream)


def text_pdf(pages: list[list[str]], *, password: str | None = None) -> bytes:
    """A PDF whose pages carry the given lines as a (CJK-capable) text layer."""
    writer = PdfWriter()
    cmap = _stream(writer, _CMAP)
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type0"),
        NameObject("/BaseFont"): NameObject("/STSong-Light"), NameObject("/Encoding"): NameObject("/Identity-H"),
        NameObject("/ToUnicode"): cmap,
        NameObject("/DescendantFonts"): ArrayObject([DictionaryObject({
            NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/CIDFontType0"),
            NameObject("/BaseFont"): NameObject("/STSong-Light"),
            NameObject("/CIDSystemInfo"): DictionaryObject({
                NameObject("/Registry"): _pdfstr("Adobe"), NameObject("/Ordering"): _pdfstr("GB1"),
                NameObject("/Supplement"): NumberObject(4)}),
        })]),
    }))
    for lines in pages:
        page = writer.add_blank_page(595, 842)
        ops = [b"BT /F1 12 Tf 14 TL 50 800 Td"]
        for line in lines:
            ops.append(b"<" + line.encode("utf-16-be").hex().encode() + b"> Tj T*")
        ops.append(b"ET")
        page[NameObject("/Contents")] = _stream(writer, b"\n".join(ops))
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    if password is not None:
        writer.encrypt(password, algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_pdf(pages: int = 1) -> bytes:
    """A scan: pages that only paint an image, no text layer."""
    writer = PdfWriter()
    image = _stream(writer, bytes([0x80] * 16), Type=NameObject("/XObject"), Subtype=NameObject("/Image"),
                    Width=NumberObject(4), Height=NumberObject(4), ColorSpace=NameObject("/DeviceGray"),
                    BitsPerComponent=NumberObject(8))
    for _ in range(pages):
        page = writer.add_blank_page(595, 842)
        page[NameObject("/Contents")] = _stream(writer, b"q 500 0 0 700 40 60 cm /Im1 Do Q")
        page[NameObject("/Resources")] = DictionaryObject({
            NameObject("/XObject"): DictionaryObject({NameObject("/Im1"): image})})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdfstr(text: str):
    from pypdf.generic import TextStringObject
    return TextStringObject(text)
