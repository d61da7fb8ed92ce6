"""One module per concern. Each probe exposes `before(ctx)` and `after(ctx)`; `after` writes its section of ctx.report.

The recorder calls them in a fixed order and turns any exception into a line of report["errors"].
"""
