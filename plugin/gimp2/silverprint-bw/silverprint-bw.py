#!/usr/bin/env python3
"""Silverprint B&W for GIMP 2.10: Filters › Silverprint B&W…

GIMP 2.10 on current Linux distributions has no Python-Fu, so this plug-in talks to libgimp through
ctypes (standard library only) and registers itself with ``gimp_main`` like a C plug-in.

What it does: exports the visible image (16-bit when the image is), hands it to the local
Silverprint service as a bridge session (the companion shows it when open; otherwise the service
renders the default style at once), and inserts the result as a new layer named after the style,
in one undo step. When the service is not running, or on Cancel, the image is left untouched and a
message says why (and how to start Silverprint). Timeouts are in `silverprint_bridge`.

Procedure ``plug-in-silverprint-bw`` (run-mode, image, drawable, style, mode): ``style`` "" means
the companion's choice / the default style; ``mode`` 0 = auto, 1 = wait for the companion,
2 = render at once (batch use).
"""
import ctypes
import ctypes.util
import os
import shutil
import sys
import tempfile
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import silverprint_bridge as bridge  # noqa: E402  (installed beside this file)

PROC = b"plug-in-silverprint-bw"
MODES = ("auto", "interactive", "render")

# --- libgimp 2.10 ABI -------------------------------------------------------------------------------
PDB_INT32, PDB_STRING, PDB_IMAGE, PDB_DRAWABLE, PDB_STATUS = 0, 4, 13, 16, 21
STATUS_EXECUTION_ERROR, STATUS_CALLING_ERROR, STATUS_SUCCESS, STATUS_CANCEL = 0, 1, 3, 4
RUN_INTERACTIVE, RUN_NONINTERACTIVE = 0, 1
GIMP_PLUGIN = 1
PRECISION_U16_LINEAR = 200  # GimpPrecision: every value from here up has more than 8 bits
INDEXED = 2


class ParamData(ctypes.Union):
    _fields_ = [("d_int32", ctypes.c_int32), ("d_float", ctypes.c_double),
                ("d_string", ctypes.c_char_p), ("d_status", ctypes.c_int), ("_size", ctypes.c_byte * 32)]


class Param(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("data", ParamData)]


class ParamDef(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("name", ctypes.c_char_p), ("description", ctypes.c_char_p)]


VOIDFUNC = ctypes.CFUNCTYPE(None)
RUNFUNC = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(Param),
                           ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.POINTER(Param)))


class PlugInInfo(ctypes.Structure):
    _fields_ = [("init_proc", VOIDFUNC), ("quit_proc", VOIDFUNC), ("query_proc", VOIDFUNC),
                ("run_proc", RUNFUNC)]


def _load_libgimp() -> ctypes.CDLL:
    names = ["libgimp-2.0.so.0", "libgimp-2.0-0.dll", "libgimp-2.0.0.dylib", ctypes.util.find_library("gimp-2.0")]
    for name in names:
        if not name:
            continue
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    raise OSError("libgimp-2.0 not found")


lib = _load_libgimp()
_I, _S, _D, _B = ctypes.c_int32, ctypes.c_char_p, ctypes.c_double, ctypes.c_int
for _name, _res, _args in [
    ("gimp_install_procedure", None, [_S, _S, _S, _S, _S, _S, _S, _S, _B, _B, _B,
                                      ctypes.POINTER(ParamDef), ctypes.POINTER(ParamDef)]),
    ("gimp_plugin_menu_register", _B, [_S, _S]),
    ("gimp_main", _B, [ctypes.POINTER(PlugInInfo), _B, ctypes.POINTER(_S)]),
    ("gimp_message", _B, [_S]),
    ("gimp_image_duplicate", _I, [_I]),
    ("gimp_image_delete", _B, [_I]),
    ("gimp_image_undo_disable", _B, [_I]),
    ("gimp_image_flatten", _I, [_I]),
    ("gimp_image_base_type", _B, [_I]),
    ("gimp_image_convert_rgb", _B, [_I]),
    ("gimp_image_get_precision", _B, [_I]),
    ("gimp_image_get_filename", ctypes.c_void_p, [_I]),
    ("gimp_file_save", _B, [_B, _I, _I, _S, _S]),
    ("gimp_file_load_layer", _I, [_B, _I, _S]),
    ("gimp_item_set_name", _B, [_I, _S]),
    ("gimp_image_insert_layer", _B, [_I, _I, _I, _B]),
    ("gimp_image_undo_group_start", _B, [_I]),
    ("gimp_image_undo_group_end", _B, [_I]),
    ("gimp_displays_flush", None, []),
    ("gimp_progress_init", _B, [_S]),
    ("gimp_progress_pulse", _B, []),
    ("gimp_progress_end", _B, []),
    ("g_free", None, [ctypes.c_void_p]),
]:
    _fn = getattr(lib, _name)
    _fn.restype, _fn.argtypes = _res, _args

ARGS = (ParamDef * 5)(
    ParamDef(PDB_INT32, b"run-mode", b"The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"),
    ParamDef(PDB_IMAGE, b"image", b"Input image"),
    ParamDef(PDB_DRAWABLE, b"drawable", b"Input drawable (the visible image is used)"),
    ParamDef(PDB_STRING, b"style", b"Style name; empty: the companion's choice, else the default style"),
    ParamDef(PDB_INT32, b"mode", b"0 auto (companion when open), 1 wait for the companion, 2 render now"),
)
_RETURN = (Param * 2)()
_KEEP = {}  # C strings handed back to GIMP must outlive the run callback


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "replace")


def query() -> None:
    lib.gimp_install_procedure(
        PROC, b"Convert to black and white with Silverprint (as a new layer)",
        b"Sends the visible image to the local Silverprint service. With the Silverprint companion "
        b"open you choose the style and adjust it there; otherwise the default style is applied at "
        b"once. The result is inserted as a new layer named after the style, in one undo step.",
        b"Silverprint", b"Silverprint (MIT)", b"2026", _utf8("Silverprint B&W\u2026"),
        b"RGB*, GRAY*, INDEXED*", GIMP_PLUGIN, len(ARGS), 0, ARGS, None)
    lib.gimp_plugin_menu_register(PROC, b"<Image>/Filters")


def _message(text: str) -> None:
    lib.gimp_message(_utf8(text))


def _export_visible(image: int, path: str) -> None:
    """The visible image (flattened copy; the user's image is not touched) to a PNG at its bit depth."""
    dup = lib.gimp_image_duplicate(image)
    if dup < 0:
        raise bridge.BridgeError("Silverprint: could not copy the image for export")
    try:
        lib.gimp_image_undo_disable(dup)
        if lib.gimp_image_base_type(dup) == INDEXED:
            lib.gimp_image_convert_rgb(dup)
        layer = lib.gimp_image_flatten(dup)
        if layer < 0:
            raise bridge.BridgeError("Silverprint: the image has no visible layer")
        if not lib.gimp_file_save(RUN_NONINTERACTIVE, dup, layer, path.encode(), path.encode()):
            raise bridge.BridgeError(f"Silverprint: could not export the visible image to {path}")
    finally:
        lib.gimp_image_delete(dup)


def _image_name(image: int) -> str:
    ptr = lib.gimp_image_get_filename(image)
    if not ptr:
        return "untitled"
    try:
        return os.path.basename(ctypes.string_at(ptr).decode("utf-8", "replace"))
    finally:
        lib.g_free(ptr)


def silverprint_bw(run_mode: int, image: int, style: str, mode: int) -> int:
    """The filter itself; returns a GimpPDBStatusType."""
    work = tempfile.mkdtemp(prefix="silverprint-gimp-")
    try:
        high_bit = lib.gimp_image_get_precision(image) >= PRECISION_U16_LINEAR
        source = os.path.join(work, "visible.png")
        _export_visible(image, source)
        interactive = run_mode == RUN_INTERACTIVE
        if interactive:
            lib.gimp_progress_init(_utf8("Silverprint: converting (the companion shows it when open)\u2026"))
        result = bridge.Bridge().send_image(
            source, host="gimp", name=_image_name(image), style=style or None, fmt="png16",
            mode=MODES[mode] if 0 <= mode < len(MODES) else "auto",
            on_wait=(lambda _elapsed: lib.gimp_progress_pulse()) if interactive else None)
        if result is None:
            _message("Silverprint: cancelled; the image is unchanged.")
            return STATUS_CANCEL
        result_file, style_name = result
        try:
            lib.gimp_image_undo_group_start(image)
            try:
                layer = lib.gimp_file_load_layer(RUN_NONINTERACTIVE, image, result_file.encode())
                if layer < 0:
                    raise bridge.BridgeError("Silverprint: could not read the result image")
                lib.gimp_item_set_name(layer, _utf8(style_name))
                if not lib.gimp_image_insert_layer(image, layer, 0, -1):
                    raise bridge.BridgeError("Silverprint: could not insert the result layer")
            finally:
                lib.gimp_image_undo_group_end(image)
        finally:
            os.unlink(result_file)
        if interactive:
            lib.gimp_displays_flush()
        del high_bit  # the layer takes the image's precision: 16-bit in, 16-bit layer
        return STATUS_SUCCESS
    finally:
        if run_mode == RUN_INTERACTIVE:
            lib.gimp_progress_end()
        shutil.rmtree(work, ignore_errors=True)


def run(name, nparams, params, nreturn_vals, return_vals) -> None:  # noqa: ANN001 - C callback
    status, error = STATUS_CALLING_ERROR, None
    try:
        if nparams < 3:
            error = "Silverprint: called with too few arguments"
        else:
            run_mode = params[0].data.d_int32
            image = params[1].data.d_int32
            style = params[3].data.d_string.decode("utf-8") if nparams > 3 and params[3].data.d_string else ""
            mode = params[4].data.d_int32 if nparams > 4 else 0
            if run_mode != RUN_NONINTERACTIVE:
                mode = 0
            status = silverprint_bw(run_mode, image, style, mode)
    except bridge.BridgeError as exc:
        status, error = STATUS_EXECUTION_ERROR, str(exc)
    except Exception as exc:  # never let an exception escape into C
        traceback.print_exc()
        status, error = STATUS_EXECUTION_ERROR, f"Silverprint: unexpected error: {exc}"
    _RETURN[0].type, _RETURN[0].data.d_status = PDB_STATUS, status
    count = 1
    if error:
        _KEEP["error"] = _utf8(error)
        _RETURN[1].type, _RETURN[1].data.d_string = PDB_STRING, _KEEP["error"]
        count = 2
    nreturn_vals[0] = count
    return_vals[0] = ctypes.cast(_RETURN, ctypes.POINTER(Param))


_INFO = PlugInInfo(VOIDFUNC(), VOIDFUNC(), VOIDFUNC(query), RUNFUNC(run))

if __name__ == "__main__":
    assert ctypes.sizeof(Param) == 8 + 32 or ctypes.sizeof(ctypes.c_void_p) != 8, "GimpParam ABI mismatch"
    argv = (ctypes.c_char_p * (len(sys.argv) + 1))(*[a.encode() for a in sys.argv], None)
    sys.exit(lib.gimp_main(ctypes.byref(_INFO), len(sys.argv), argv))
