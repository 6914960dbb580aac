"""The catalogue website of one release: the facts read from it (`context`), the charts
(`charts`), the pages rendered from `templates/` (`pages`) and DuckDB-WASM vendored for
its SQL console (`wasm`).

May import: as `azkz.publish`.
"""
