"""The read-only web view: ``create_app(store, config)`` (see ``pipeline.web.app``)."""

from pipeline.web.app import TOKEN_HEADER, create_app, diff_url, doc_url

__all__ = ["TOKEN_HEADER", "create_app", "diff_url", "doc_url"]
