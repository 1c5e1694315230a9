#!/usr/bin/env python3
"""Silverprint B&W for GIMP 3: Filters › Silverprint B&W…

Exports the visible image (at the image's bit depth), hands it to the local Silverprint service as
a bridge session (the companion shows it when open; otherwise the service renders the requested or
default style at once), and inserts the result as a new layer named after the style, in one undo
step. When the service is not running, or on Cancel, the image is left untouched and a message says
why and how to start Silverprint. The HTTP side, with its stated timeouts, is `silverprint_bridge`
(installed beside this file; standard library only).

Procedure ``plug-in-silverprint-bw``: ``style`` ("" = the companion's choice / the default style),
``mode`` (0 auto, 1 wait for the companion, 2 render at once; interactive runs always use 0).
"""
import os
import shutil
import sys
import tempfile

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio, GLib, GObject  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import silverprint_bridge as bridge  # noqa: E402

PROC = "plug-in-silverprint-bw"
MODES = ("auto", "interactive", "render")


def _export_visible(image, path):
    """The visible image, flattened on a copy (the user's image is not touched), at its bit depth."""
    dup = image.duplicate()
    try:
        dup.undo_disable()
        if dup.get_base_type() == Gimp.ImageBaseType.INDEXED:
            dup.convert_rgb()
        if dup.flatten() is None:
            raise bridge.BridgeError("Silverprint: the image has no visible layer")
        if not Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, dup, Gio.File.new_for_path(path), None):
            raise bridge.BridgeError(f"Silverprint: could not export the visible image to {path}")
    finally:
        dup.delete()


def _image_name(image):
    file = image.get_file()
    return file.get_basename() if file is not None else "untitled"


class SilverprintBW(Gimp.PlugIn):
    def do_query_procedures(self):
        return [PROC]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.run, None)
        procedure.set_image_types("RGB*, GRAY*, INDEXED*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE
                                       | Gimp.ProcedureSensitivityMask.DRAWABLES
                                       | Gimp.ProcedureSensitivityMask.NO_DRAWABLES)
        procedure.set_menu_label("Silverprint B&W\u2026")
        procedure.add_menu_path("<Image>/Filters")
        procedure.set_documentation(
            "Convert to black and white with Silverprint (as a new layer)",
            "Sends the visible image to the local Silverprint service. With the Silverprint companion "
            "open you choose and adjust the style there; otherwise the default style is applied at "
            "once. The result is inserted as a new layer named after the style, in one undo step.",
            name)
        procedure.set_attribution("Silverprint", "Silverprint (MIT)", "2026")
        procedure.add_string_argument("style", "Style", "Style name; empty: the companion's choice, "
                                      "else the default style", "", GObject.ParamFlags.READWRITE)
        procedure.add_int_argument("mode", "Mode", "0 auto (companion when open), 1 wait for the "
                                   "companion, 2 render at once", 0, 2, 0, GObject.ParamFlags.READWRITE)
        return procedure

    def run(self, procedure, run_mode, image, drawables, config, run_data):
        interactive = run_mode == Gimp.RunMode.INTERACTIVE
        style = config.get_property("style") or None
        mode = 0 if run_mode != Gimp.RunMode.NONINTERACTIVE else int(config.get_property("mode"))
        work = tempfile.mkdtemp(prefix="silverprint-gimp3-")
        try:
            source = os.path.join(work, "visible.png")
            _export_visible(image, source)
            if interactive:
                Gimp.progress_init("Silverprint: converting (the companion shows it when open)\u2026")
            result = bridge.Bridge().send_image(
                source, host="gimp", name=_image_name(image), style=style, fmt="png16",
                mode=MODES[mode] if 0 <= mode < len(MODES) else "auto",
                on_wait=(lambda _elapsed: Gimp.progress_pulse()) if interactive else None)
            if result is None:
                Gimp.message("Silverprint: cancelled; the image is unchanged.")
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
            result_file, style_name = result
            try:
                image.undo_group_start()
                try:
                    layer = Gimp.file_load_layer(Gimp.RunMode.NONINTERACTIVE, image,
                                                 Gio.File.new_for_path(result_file))
                    if layer is None:
                        raise bridge.BridgeError("Silverprint: could not read the result image")
                    layer.set_name(style_name)
                    if not image.insert_layer(layer, None, -1):
                        raise bridge.BridgeError("Silverprint: could not insert the result layer")
                finally:
                    image.undo_group_end()
            finally:
                os.unlink(result_file)
            if interactive:
                Gimp.displays_flush()
            return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())
        except bridge.BridgeError as exc:
            error = GLib.Error.new_literal(Gimp.PlugIn.error_quark(), str(exc), 0)
            return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, error)
        finally:
            if interactive:
                Gimp.progress_end()
            shutil.rmtree(work, ignore_errors=True)


Gimp.main(SilverprintBW.__gtype__, sys.argv)
