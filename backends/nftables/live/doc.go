// Package live applies a compiled nftables table to a Linux gateway over
// netlink, inside one network namespace (Target): it reads what the kernel
// holds for table inet voicewall, diffs it with the compiled table, sends
// the change as one atomic batch pinned to the ruleset generation the plan
// read, verifies what the kernel then lists, and arms a rollback that runs
// unless the admin confirms. Operation owns that order; internal/cli only
// parses flags and renders what this package returns. The netlink codec is
// package nlwire; package inputs digests a policy's input files for the
// no-op fast path.
//
// The files, by step:
//
//   - netns.go: Target, the namespace every socket is opened in.
//   - operation.go: Operation and Session, the plan/apply/confirm/rollback
//     workflow and its safety order; lockout.go: the guard against cutting
//     the admin's own connection; protect.go: addresses no blocklist may
//     cover (resolvers, default gateways, the policy's own); alg.go: the SIP
//     ALG (conntrack helper) found anywhere in the namespace.
//   - read.go: State, the kernel's table read back (chains, rules, sets);
//     decode.go: kernel rule → the compiler's statements; exprs.go: the
//     expression names voicewall reads; probe.go: single-element lookups.
//   - diff.go: Plan, the difference as chain, set and rule changes (printed
//     as Terraform prints a plan); delta_types.go: a set's element delta.
//   - encode.go: compiled statements → chain and set definitions and rule
//     expressions; build.go: the batch messages (table, chains, sets,
//     rules); elements.go: interval set elements, encoded, dumped and
//     normalized; apply.go: Apply, the batch sent and verified.
//   - rollback.go: the pending rollback file and its detached helper;
//     lastgood.go: the last table that applied cleanly, for boot when the
//     policy does not load.
//   - cache.go: the state cache that lets a no-op plan skip dumping big
//     sets; structure.go: the digest of the table without its elements;
//     fastpath.go: the no-op fast path keyed by the inputs' digest;
//     trust.go, trustapi.go: state files are read only from directories
//     nobody else can write.
//   - dynamic.go: the run-time sets (timed bans, trusted remote phones)
//     whose elements plan and apply leave alone.
//   - links.go: the WAN, LAN and voice VLAN links the policy relies on.
//   - status.go, metrics.go: live counters mapped back to the policy, and
//     the Prometheus text `voicewall status` exports.
//   - wire.go: the parts of nlwire live's API hands out.
package live
