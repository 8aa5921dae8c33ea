"""Document ingestion: raw policy files (TXT, Markdown, HTML, DOCX, PDF) → knowledge/sources/*.md."""
from jixiao.knowledge.ingest.model import DocMeta, SourceDoc, load_sources, write_sources
from jixiao.knowledge.ingest.pipeline import IngestResult, ingest_file, ingest_paths

__all__ = ["DocMeta", "SourceDoc", "IngestResult", "ingest_file", "ingest_paths", "load_sources", "write_sources"]
