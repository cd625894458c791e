"""Demo data generator: a chain of Spanish bakeries with every source, realistic demand and injected defects."""

from bakery.generate.core import generate_demo
from bakery.generate.summary import GenerateSummary

__all__ = ["GenerateSummary", "generate_demo"]
