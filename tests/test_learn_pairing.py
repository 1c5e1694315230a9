"""Pairing a portfolio on real files: the three layouts, EXIF, RAW, and every reason to skip."""
from __future__ import annotations

import numpy as np
import pytest

from silverprint.errors import BadInputError
from silverprint.learn import pairing
from silverprint.learn.index import PortfolioIndex
from learn_files import KODAK, bw_edit, exif_bytes, photo, save, write_dng

pytestmark = pytest.mark.skipif(not KODAK.is_dir(), reason="needs ../shared/data (the team's data pack)")


def _by_name(result):
    return {p.name: p for p in result.pairs}


def _reasons(result):
    return {s.path.name: s.reason for s in result.skipped}


def test_originals_and_edits_folders_pair_by_stem_with_any_extension(tmp_path):
    a, b, c = photo("kodim23"), photo("kodim05"), photo("kodim08")
    save(a, tmp_path / "originals" / "parrots.jpg", quality=95)
    save(bw_edit(a), tmp_path / "edits" / "parrots.png")
    save(b, tmp_path / "originals" / "bikes.tif")
    save(bw_edit(b), tmp_path / "edits" / "bikes.jpg", quality=95)
    save(c, tmp_path / "originals" / "houses.png")  # never edited
    (tmp_path / "edits" / "notes.doc").write_text("not a photo")
    result = pairing.find_pairs(tmp_path)
    assert result.layout == "originals/edits folders"
    pairs = _by_name(result)
    assert set(pairs) == {"parrots", "bikes"}
    assert pairs["bikes"].original.name == "bikes.tif" and pairs["bikes"].edit.name == "bikes.jpg"
    assert all(p.matched_by == "folders" for p in pairs.values())
    reasons = _reasons(result)
    assert "no B&W edit" in reasons["houses.png"]
    assert "not an image" in reasons["notes.doc"]


def test_one_folder_with_edit_suffixes(tmp_path):
    a, b, c = photo("kodim23"), photo("kodim05"), photo("kodim08")
    save(a, tmp_path / "IMG_1.jpg", quality=95)
    save(bw_edit(a), tmp_path / "IMG_1_bw.jpg", quality=95)
    save(b, tmp_path / "IMG_2.png")
    save(bw_edit(b), tmp_path / "IMG_2-Edit.tif")
    save(c, tmp_path / "IMG_3.jpg", quality=95)
    save(bw_edit(c), tmp_path / "IMG_3-bw.png")
    result = pairing.find_pairs(tmp_path)
    assert result.layout == "one folder"
    pairs = _by_name(result)
    assert {n: (p.original.name, p.edit.name) for n, p in pairs.items()} == {
        "IMG_1": ("IMG_1.jpg", "IMG_1_bw.jpg"), "IMG_2": ("IMG_2.png", "IMG_2-Edit.tif"),
        "IMG_3": ("IMG_3.jpg", "IMG_3-bw.png")}
    assert not result.skipped


def test_renamed_exports_pair_by_exif_capture_time(tmp_path):
    a, b, c = photo("kodim23"), photo("kodim05"), photo("kodim08")
    # Same second, different sub-seconds (a burst): only SubSecTimeOriginal tells them apart.
    save(a, tmp_path / "DSC_0001.jpg", quality=95, exif=exif_bytes("2024:05:01 10:00:00", "10"))
    save(b, tmp_path / "DSC_0002.jpg", quality=95, exif=exif_bytes("2024:05:01 10:00:00", "55"))
    save(c, tmp_path / "DSC_0003.jpg", quality=95, exif=exif_bytes("2024:05:01 11:00:00",
                                                                  unique="abc123def"))
    save(bw_edit(b), tmp_path / "bikes for the show.jpg", quality=95,
         exif=exif_bytes("2024:05:01 10:00:00", "55"))
    save(bw_edit(a), tmp_path / "final parrots.jpg", quality=95,
         exif=exif_bytes("2024:05:01 10:00:00", "10"))
    save(bw_edit(c), tmp_path / "houses.jpg", quality=95,
         exif=exif_bytes("2030:01:01 00:00:00", unique="abc123def"))
    save(bw_edit(photo("kodim01")), tmp_path / "stray.jpg", quality=95,
         exif=exif_bytes("2020:01:01 00:00:00", "1"))
    result = pairing.find_pairs(tmp_path)
    pairs = {p.edit.name: p.original.name for p in result.pairs}
    assert pairs == {"bikes for the show.jpg": "DSC_0002.jpg", "final parrots.jpg": "DSC_0001.jpg",
                     "houses.jpg": "DSC_0003.jpg"}
    assert all(p.matched_by == "exif" for p in result.pairs)
    assert "no original" in _reasons(result)["stray.jpg"]


def test_raw_original_is_paired_and_loaded(tmp_path):
    rgb = photo("kodim23", 256)
    write_dng(rgb, tmp_path / "originals" / "parrots.dng")
    from PIL import Image
    edit = Image.fromarray(bw_edit(rgb)).resize((128, 85), Image.LANCZOS)  # exported smaller
    save(np.asarray(edit), tmp_path / "edits" / "parrots.jpg", quality=95)
    result = pairing.find_pairs(tmp_path)
    assert [p.original.suffix for p in result.pairs] == [".dng"]
    prepared = pairing.prepare_pair(result.pairs[0], preview_side=128)
    assert prepared.rgb.shape == (85, 128, 3) and prepared.edit.shape == (85, 128)
    assert prepared.rgb.std() > 0.05  # real demosaiced pixels, not a blank frame


def test_raw_beside_camera_jpeg_in_one_folder_is_the_original(tmp_path):
    rgb = photo("kodim05", 256)
    write_dng(rgb, tmp_path / "DSC_9.dng")
    save(rgb, tmp_path / "DSC_9.jpg", quality=90)
    save(bw_edit(rgb), tmp_path / "DSC_9_edit.jpg", quality=95)
    result = pairing.find_pairs(tmp_path)
    assert [(p.original.name, p.edit.name) for p in result.pairs] == [("DSC_9.dng", "DSC_9_edit.jpg")]


def test_resized_edit_is_fine_cropped_colour_and_broken_edits_are_skipped(tmp_path):
    names = {"resized": "kodim23", "cropped": "kodim05", "colour": "kodim08", "broken": "kodim01",
             "half": "kodim03"}
    for stem, kodak in names.items():
        save(photo(kodak, 384), tmp_path / "originals" / f"{stem}.jpg", quality=95)
    from PIL import Image
    small = Image.fromarray(bw_edit(photo("kodim23", 384))).resize((192, 128), Image.LANCZOS)
    save(np.asarray(small), tmp_path / "edits" / "resized.jpg", quality=95)
    edit = bw_edit(photo("kodim05", 384))
    save(edit[8:, 12:], tmp_path / "edits" / "cropped.png")  # a few per cent off two sides
    save(photo("kodim08", 384), tmp_path / "edits" / "colour.jpg", quality=95)
    (tmp_path / "edits" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    full = tmp_path / "half.jpg"
    save(bw_edit(photo("kodim03", 384)), full, quality=95)
    data = full.read_bytes()
    (tmp_path / "edits" / "half.jpg").write_bytes(data[: len(data) // 2])  # an export cut short
    full.unlink()
    (tmp_path / "edits" / "next.jpg.part").write_bytes(data[:100])
    result = pairing.find_pairs(tmp_path)
    assert "partial file" in _reasons(result)["next.jpg.part"]
    outcomes = {}
    for pair in result.pairs:
        try:
            prepared = pairing.prepare_pair(pair, preview_side=96)
            outcomes[pair.name] = ("ok", prepared.edit_size)
        except pairing.PairSkipped as exc:
            outcomes[pair.name] = ("skipped", exc.reason)
    assert outcomes["resized"] == ("ok", (128, 192))
    assert outcomes["cropped"][0] == "skipped" and outcomes["cropped"][1].startswith("cropped — skipped")
    assert outcomes["colour"][0] == "skipped" and "not a black-and-white edit" in outcomes["colour"][1]
    assert outcomes["broken"][0] == "skipped" and "unreadable edit" in outcomes["broken"][1]
    assert outcomes["half"][0] == "skipped" and "unreadable edit" in outcomes["half"][1]


def test_toned_edit_counts_as_black_and_white():
    grey = bw_edit(photo("kodim23")).astype(np.float32) / 255
    sepia = np.stack([grey * 1.0, grey * 0.9, grey * 0.72], axis=-1)
    assert pairing.tint_residual(sepia) <= pairing.MONO_TOLERANCE
    assert pairing.tint_residual(photo("kodim23").astype(np.float32) / 255) > 3 * pairing.MONO_TOLERANCE


def test_missing_portfolio_is_a_clear_error(tmp_path):
    with pytest.raises(BadInputError, match="portfolio folder not found"):
        pairing.find_pairs(tmp_path / "nope")


def test_index_rehashes_only_changed_files_and_lives_outside_the_portfolio(tmp_path, monkeypatch):
    monkeypatch.setenv("SILVERPRINT_HOME", str(tmp_path / "home"))
    portfolio = tmp_path / "portfolio"
    path = save(photo("kodim23", 64), portfolio / "a.png")
    with PortfolioIndex() as index:
        assert index.path.is_relative_to(tmp_path / "home")
        first = index.identity(path)
        assert index.identity(path) == first
        save(photo("kodim05", 64), path)
        changed = index.identity(path)
        assert changed.sha256 != first.sha256
    assert sorted(p.name for p in portfolio.iterdir()) == ["a.png"]
