// Package lang is voicewall's policy language: it reads a policy (one .hcl
// file or a directory of them, bounded in size and nesting), decodes and
// validates its blocks, lints it, and lowers it into Policy, the one place
// every fact about the firewall is decided. Backends only spell a Policy in
// their target's syntax; the evaluator answers what the policy does with a
// packet (`voicewall test` and `explain`).
//
// lang is pure: no network, no clock, no kernel. What it cannot know by
// itself enters through LoadOptions: the targets a policy may name (their
// specs, which backends/registry passes), the provider catalog, DNS
// answers for signaling_dns, blocklist contents standing in for files.
//
// Where things are:
//
//   - load.go, readfile.go, limits.go, use.go: reading the files (regular
//     files only, size and nesting caps, `use` blocks).
//   - decode.go, validate.go, values.go, target.go: the schema, the checks
//     with their finding IDs, value parsing, target blocks; anyshare.go:
//     address lists that are "any" in pieces; providerinputs.go: the
//     catalog and DNS answers as load inputs.
//   - policy.go (the model), ports.go (protocols, port ranges, services and
//     their set operations), addrset.go (AddrSet), blocklist.go, feed.go,
//     responsive.go: what a Policy holds.
//   - lower.go, rules.go, rangebuilder.go: lowering into ordered abstract
//     rules; invariants.go: the safety properties checked after lowering.
//   - lint.go: warnings on a valid policy.
//   - eval.go, dropreason.go: the evaluator and its drop reasons.
//   - diag.go, printable.go: diagnostics with stable finding IDs, and text
//     made safe for the terminal.
//   - inputs.go: the files a policy is compiled from, for digests.
package lang
