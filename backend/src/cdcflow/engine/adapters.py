"""The former name of engine/ports.py, kept so code written against it still imports."""

from cdcflow.engine.ports import SourcePort, TargetPort, source_adapter, target_adapter

SourceAdapter, TargetAdapter = SourcePort, TargetPort

__all__ = ["SourceAdapter", "SourcePort", "TargetAdapter", "TargetPort", "source_adapter", "target_adapter"]
