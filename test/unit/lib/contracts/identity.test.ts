import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskName, residentIdIssue } from '../../../../lib/contracts/identity';
import { residentId } from '../../../support/contracts/fixtures';

test('a resident ID with the right check character is valid', () => {
  assert.equal(residentIdIssue(residentId('11010519491231002')), undefined);
  // A published sample ID (GB 11643 annex example) whose check character is X.
  assert.equal(residentIdIssue('11010519491231002X'), undefined);
});

test('a wrong check digit, a bad date, a short or lower-case ID are refused with the reason', () => {
  const id = residentId('11010519491231002');
  const wrong = id.slice(0, 17) + (id[17] === '1' ? '2' : '1');
  assert.match(residentIdIssue(wrong) ?? '', /check digit/);
  assert.match(residentIdIssue(residentId('11010519491331002')) ?? '', /birth date/);
  assert.match(residentIdIssue('1101051949123100') ?? '', /18 characters/);
  assert.match(residentIdIssue('11010519491231002x') ?? '', /upper-case X/);
});

test('maskName follows WeChat Pay: last character kept, *** for names over 4 characters', () => {
  assert.equal(maskName('明'), '明');
  assert.equal(maskName('张三'), '*三');
  assert.equal(maskName('欧阳娜娜'), '***娜');
  assert.equal(maskName('Georg'), '***g');
  assert.equal(maskName('A.B'), '**B');
});
