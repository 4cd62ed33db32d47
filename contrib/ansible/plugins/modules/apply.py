#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voicewall contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: apply
short_description: Plan and apply a voicewall policy to a Linux gateway
description:
  - Runs C(voicewall plan) on the managed host to compare the kernel's
    C(table inet voicewall) with what the policy compiles to, and, unless in
    check mode, C(voicewall apply) of exactly that saved plan.
  - The task is C(changed) exactly when the plan had changes (rules, sets or
    voice VLAN links to create). The plan is returned as voicewall's JSON.
  - In check mode only the plan runs; nothing is changed. With C(--diff) the
    plan is shown as voicewall prints it.
  - A policy that does not load, an interface that does not exist, or an
    apply the kernel refuses fails the task with voicewall's own message,
    including the file, line and column of a policy error. A failed apply
    leaves the previous table (voicewall applies in one atomic batch).
  - voicewall must be installed on the managed host; the policy directory
    (with any common directory its C(use) blocks name) must be there too.
version_added: "0.1.0"
author: voicewall contributors
options:
  path:
    description:
      - The policy on the managed host, a directory of C(.hcl) files or one
        file (a fleet site such as C(/etc/voicewall/sites/hq)).
    type: path
    required: true
  netns:
    description:
      - Work in the network namespace C(/run/netns/NAME) instead of the
        module's own (C(--netns)).
    type: str
  confirm_timeout:
    description:
      - Apply with C(--confirm-timeout), e.g. C(60s) or C(2m). voicewall saves
        the current table and starts a helper that restores it after this
        long unless C(voicewall confirm) runs first. Run it in a later task
        once the gateway is proven reachable (see the C(rollout) role).
      - Not used in check mode or when the plan has no changes.
    type: str
  binary:
    description:
      - The voicewall executable, a name looked up in C(PATH) or a path.
    type: str
    default: voicewall
notes:
  - Supports check mode and diff mode.
  - Needs root (CAP_NET_ADMIN) on the managed host; use C(become).
seealso:
  - name: voicewall fleet guide
    description: Layout, inventory, rollout order, rollback.
    link: https://github.com/voicewall/voicewall/blob/main/docs/fleet.md
'''

EXAMPLES = r'''
- name: Apply the site's policy, rolled back after 2 minutes unless confirmed
  voicewall.gateway.apply:
    path: /etc/voicewall/sites/{{ inventory_hostname }}
    confirm_timeout: 2m
  become: true
  register: vw

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ vw.plan.summary }}"
'''

RETURN = r'''
plan:
  description: voicewall's plan, as C(voicewall plan --format json) prints it.
  returned: when the plan ran
  type: dict
  sample: {"changes": true, "summary": {"add": 69, "change": 0, "remove": 0}, "resource_changes": []}
summary:
  description: How many resources the plan adds, changes and removes.
  returned: when the plan ran
  type: dict
  sample: {"add": 69, "change": 0, "remove": 0}
pending_confirm:
  description: True when the apply used confirm_timeout and waits for C(voicewall confirm).
  returned: always
  type: bool
stdout:
  description: What C(voicewall apply) printed (empty when nothing was applied).
  returned: always
  type: str
stderr:
  description: What voicewall printed on stderr (warnings, errors).
  returned: always
  type: str
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule


def fail(module, what, cmd, rc, out, err, **extra):
    # voicewall's stderr already names file:line:column and shows the source
    # line; pass it through whole.
    text = (err or out or '').strip()
    module.fail_json(msg='voicewall %s failed (exit %d):\n%s' % (what, rc, text),
                     cmd=cmd, rc=rc, stdout=out, stderr=err, **extra)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            netns=dict(type='str'),
            confirm_timeout=dict(type='str'),
            binary=dict(type='str', default='voicewall'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    binary = p['binary']
    if os.sep not in binary:
        binary = module.get_bin_path(binary, required=True)
    ns = ['--netns', p['netns']] if p['netns'] else []
    env = dict(LC_ALL='C', NO_COLOR='1')

    planfile = os.path.join(module.tmpdir, 'voicewall.plan')
    cmd = [binary, 'plan', p['path'], '--format', 'json', '--detailed-exitcode', '-out', planfile] + ns
    rc, out, err = module.run_command(cmd, environ_update=env)
    if rc not in (0, 2):
        fail(module, 'plan', cmd, rc, out, err, pending_confirm=False)
    try:
        plan = json.loads(out)
    except ValueError as e:
        fail(module, 'plan', cmd, rc, out, 'cannot read its JSON output: %s\n%s' % (e, err), pending_confirm=False)
    changes = bool(plan.get('changes')) or rc == 2
    for w in plan.get('warnings') or []:
        module.warn('voicewall: %s' % w)

    result = dict(changed=changes, plan=plan, summary=plan.get('summary', {}),
                  pending_confirm=False, stdout='', stderr=err)
    if changes and module._diff:
        # The plan as voicewall prints it: the same comparison, in text.
        tcmd = [binary, 'plan', p['path']] + ns
        trc, tout, terr = module.run_command(tcmd, environ_update=env)
        prepared = tout if trc == 0 else (terr or tout)
        result['diff'] = dict(prepared=prepared)
    if not changes or module.check_mode:
        module.exit_json(**result)

    acmd = [binary, 'apply', planfile] + ns
    if p['confirm_timeout']:
        acmd += ['--confirm-timeout', p['confirm_timeout']]
    rc, out, err = module.run_command(acmd, environ_update=env)
    if rc != 0:
        fail(module, 'apply', acmd, rc, out, err, plan=plan, pending_confirm=False)
    result.update(stdout=out, stderr=err, pending_confirm=bool(p['confirm_timeout']))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
