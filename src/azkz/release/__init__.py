"""`azkz build`: a versioned, checksummed release in `dist/<version>/`: the build and its
writers (`build`), the zip (`archive`), the no-op rebuild check (`fingerprint`), the
citation files (`citation`) and the changes against the previous release (`changes`).

May import: `azkz.diff`, `azkz.validate`, `azkz.derive`, `azkz.tables`, `azkz.schema`,
`azkz.core`.  Nothing that only reads a release (`azkz.access`) imports this package.
"""
