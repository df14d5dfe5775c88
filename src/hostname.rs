//! Host name syntax (RFC 1123) and certificate name matching (RFC 6125). (stub: being written)
