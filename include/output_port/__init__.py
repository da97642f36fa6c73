"""The data product's output port: the product tables as Parquet in blob storage, published after
the quality gate, masked for the port's audience, atomically per table (a pointer switched last),
and reconciled with the warehouse on every run. See README.md in this folder.

    from include.output_port import publish
    summary = publish(db_path, run_id, logical_date)      # the DAG's publish_output_port task
"""
from include.output_port.ports import Port, PortConfigError, ports
from include.output_port.publish import OutputPortMismatch, publish, status

__all__ = ["OutputPortMismatch", "Port", "PortConfigError", "ports", "publish", "status"]
