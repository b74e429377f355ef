/*
 * Scores an answer against a question's expected answer, by type (the shapes of
 * services/assessment/src/questions.ts). Each question is all or nothing: its max score when
 * the answer is right, 0 otherwise. free_text is graded by hand: the package does not score
 * it (it counts in neither the score nor the maximum).
 * Loaded by the player (window.AssistantsScore) and by the service's tests (module.exports).
 */
(function (root) {
  'use strict';
  var norm = function (s) {
    return String(s == null ? '' : s)
      .trim()
      .toLowerCase();
  };
  var sameSet = function (a, b) {
    a = (a || []).slice().sort();
    b = (b || []).slice().sort();
    return (
      a.length === b.length &&
      a.every(function (x, i) {
        return x === b[i];
      })
    );
  };
  var pairKey = function (p) {
    return JSON.stringify([p.left, p.right]);
  };

  /** Whether `given` is the expected answer of a question of this type. */
  function isRight(type, expected, given) {
    if (!given) return false;
    switch (type) {
      case 'single_choice':
        return given.choiceId != null && given.choiceId === expected.choiceId;
      case 'multiple_choice':
        return sameSet(given.choiceIds, expected.choiceIds);
      case 'true_false':
        return typeof given.value === 'boolean' && given.value === expected.value;
      case 'matching':
        return sameSet((given.pairs || []).map(pairKey), expected.pairs.map(pairKey));
      case 'ordering':
        return Array.isArray(given.order) && given.order.join('\u0000') === expected.order.join('\u0000');
      case 'fill_in':
        return expected.blanks.every(function (accepted, i) {
          var answer = norm((given.blanks || [])[i]);
          return (
            answer !== '' &&
            accepted.some(function (a) {
              return norm(a) === answer;
            })
          );
        });
      case 'numeric':
        return (
          typeof given.value === 'number' &&
          isFinite(given.value) &&
          Math.abs(given.value - expected.value) <= (expected.tolerance || 0) + 1e-9
        );
      default:
        return false;
    }
  }

  var round2 = function (x) {
    return Math.round(x * 100) / 100;
  };

  /**
   * A test's result from the answers given ({questionId: given}): raw and max in points,
   * scaled (0..1), percent, and the status: passed at or above the pass mark, failed below,
   * completed when the test has none.
   */
  function scoreTest(test, answers) {
    var raw = 0;
    var max = 0;
    var questions = [];
    test.blocks.forEach(function (block) {
      block.questions.forEach(function (q) {
        if (q.type === 'free_text') {
          questions.push({ id: q.id, type: q.type, score: null, given: answers[q.id] });
          return;
        }
        var score = isRight(q.type, q.expected, answers[q.id]) ? q.maxScore : 0;
        raw += score;
        max += q.maxScore;
        questions.push({ id: q.id, type: q.type, score: score, given: answers[q.id] });
      });
    });
    raw = round2(raw);
    max = round2(max);
    var scaled = max > 0 ? Math.round((raw / max) * 10000) / 10000 : 1;
    var percent = max > 0 ? round2((raw / max) * 100) : 100;
    var status = test.passingScorePercent == null ? 'completed' : percent >= test.passingScorePercent ? 'passed' : 'failed';
    return { raw: raw, max: max, min: 0, scaled: scaled, percent: percent, status: status, questions: questions };
  }

  var api = { isRight: isRight, scoreTest: scoreTest };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.AssistantsScore = api;
})(this);
