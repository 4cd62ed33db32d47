#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voicewall contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: confirm
short_description: Keep what an apply with confirm_timeout applied
description:
  - Runs C(voicewall confirm) on the managed host, which cancels the pending
    rollback of the last C(voicewall.gateway.apply) made with
    C(confirm_timeout), so the new table stays.
  - Fails when there is nothing to confirm, in particular when the deadline
    passed and the previous table was already restored. A rollout must stop
    there.
  - Run it only after proving the gateway still works under the new policy
    (C(ansible.builtin.wait_for_connection) at least); the C(rollout) role
    does.
version_added: "0.1.0"
author: voicewall contributors
options:
  netns:
    description: The network namespace the apply was made in (C(--netns)).
    type: str
  binary:
    description: The voicewall executable, a name looked up in C(PATH) or a path.
    type: str
    default: voicewall
notes:
  - In check mode nothing is confirmed and the task reports no change.
'''

EXAMPLES = r'''
- name: Apply with a rollback deadline
  voicewall.gateway.apply:
    path: /etc/voicewall/sites/{{ inventory_hostname }}
    confirm_timeout: 2m
  register: vw

- name: The gateway still answers
  ansible.builtin.wait_for_connection:
    timeout: 30
  when: vw.pending_confirm

- name: Keep the new table
  voicewall.gateway.confirm:
  when: vw.pending_confirm
'''

RETURN = r'''
stdout:
  description: What C(voicewall confirm) printed.
  returned: always
  type: str
'''

import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            netns=dict(type='str'),
            binary=dict(type='str', default='voicewall'),
        ),
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=False, stdout='')
    p = module.params
    binary = p['binary']
    if os.sep not in binary:
        binary = module.get_bin_path(binary, required=True)
    cmd = [binary, 'confirm'] + (['--netns', p['netns']] if p['netns'] else [])
    rc, out, err = module.run_command(cmd, environ_update=dict(LC_ALL='C'))
    if rc != 0:
        module.fail_json(msg='voicewall confirm failed (exit %d): %s' % (rc, (err or out).strip()),
                         cmd=cmd, rc=rc, stdout=out, stderr=err)
    # Cancelling the pending rollback changes what the gateway will run.
    module.exit_json(changed=True, stdout=out, stderr=err)


if __name__ == '__main__':
    main()
