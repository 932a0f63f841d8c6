// Package compat checks that audit is a drop-in wrapper over the slog
// handlers people already use: testing/slogtest, byte-identical output for
// records without audit fields, and audit fields and redaction through each
// one (issue 16, point 1).
//
// It is a module of its own so that the audit module stays stdlib-only; it
// holds tests only.
package compat
