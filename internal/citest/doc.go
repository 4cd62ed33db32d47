// Package citest tests what the repository ships for continuous
// integration, outside the Go packages: the GitHub Action (action.yml and
// scripts/action.sh, checked against the action metadata schema and run
// step by step on a temporary git repository) and the pre-commit hooks
// (.pre-commit-hooks.yaml, run with the real pre-commit). It has no code
// of its own.
package citest
