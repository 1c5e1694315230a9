"""Which torch device to render on: ``auto`` means CUDA when a usable GPU is present, else CPU."""
from __future__ import annotations

from .errors import DeviceError, SilverprintError

DEVICE_CHOICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def resolve_device(choice: str = "auto"):
    """Map a user's ``--device`` choice to a ``torch.device``.

    Args:
        choice: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; a
            ``torch.device`` is passed through.

    Returns:
        torch.device

    Raises:
        SilverprintError: for an unknown choice, or ``cuda`` on a machine without a usable GPU (a
            one-line reason instead of torch's traceback).
    """
    import torch

    if isinstance(choice, torch.device):
        return choice
    text = str(choice).strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if text == "cpu":
        return torch.device("cpu")
    if text == "cuda" or text.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {choice}: no CUDA GPU is available on this machine "
                                   "(use --device cpu or auto)")
        device = torch.device(text)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SilverprintError(f"--device {choice}: only {torch.cuda.device_count()} CUDA device(s)")
        return device
    raise SilverprintError(f"--device {choice!r}: expected one of {', '.join(DEVICE_CHOICES)}")
