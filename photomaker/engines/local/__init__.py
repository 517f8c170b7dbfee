"""PhotoMaker V2 in this process: the `local` engine, and the pieces the endpoint handler shares.

Importing this package imports torch; its entry in `engines.entries` imports it only when the `local`
engine is chosen (`pip install -e ".[local]"`). The identity encoder is ours, written after TencentARC's
design (Apache-2.0, see NOTICE); its parameter names are the published checkpoint's, so
`photomaker-v2.bin` loads into it strictly.
"""

from photomaker.engines.local.id_encoder import build_id_encoder

__all__ = ["build_id_encoder"]
