//! Report printers: plain text like `iotedge check`, and JSON. (stub)
