/*
 * The course package's player (T4): shows one test of window.PACKAGE (data.js) — `?test=<n>`,
 * or a menu of the tests when there are several and none is named —, lets the learner answer
 * every question type, scores the answers (score.js) and reports to the LMS:
 *  - SCORM 1.2 through window.API (found in a parent frame or the opener),
 *  - SCORM 2004 through window.API_1484_11,
 *  - xAPI by POSTing statements to the LRS named by the TinCan launch parameters (endpoint,
 *    auth, actor, registration; the package's own endpoint as the default).
 * Self-contained: no library, nothing fetched but the LRS. Texts are set as text, never HTML.
 */
(function () {
  'use strict';
  var pkg = window.PACKAGE;
  var Score = window.AssistantsScore;
  var params = new URLSearchParams(window.location.search);
  var root = document.getElementById('player');
  var startedAt = Date.now();

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'onclick') node.addEventListener('click', attrs[k]);
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  // ---- the LMS side ----

  /** The SCORM API object `name` in this window's parents, then its opener's. */
  function findApi(name) {
    var candidates = [window];
    if (window.opener) candidates.push(window.opener);
    for (var c = 0; c < candidates.length; c++) {
      var w = candidates[c];
      for (var depth = 0; w && depth < 10; depth++) {
        try {
          if (w[name]) return w[name];
        } catch (e) {
          // A parent of another origin: not the LMS's frame.
        }
        if (w.parent === w) break;
        w = w.parent;
      }
    }
    return null;
  }

  var pad = function (n, width) {
    var s = String(n);
    while (s.length < width) s = '0' + s;
    return s;
  };
  /** SCORM 1.2 CMITimespan: HHHH:MM:SS.SS */
  function timespan12(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds - h * 3600 - m * 60;
    return pad(Math.min(h, 9999), 4) + ':' + pad(m, 2) + ':' + pad(s.toFixed(2), 5);
  }
  /** ISO 8601 duration (SCORM 2004 timeinterval, xAPI result.duration): PT#H#M#S */
  function isoDuration(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = Math.round((seconds - h * 3600 - m * 60) * 100) / 100;
    return 'PT' + (h ? h + 'H' : '') + (m ? m + 'M' : '') + s + 'S';
  }

  function scorm12(api) {
    return {
      name: 'SCORM 1.2',
      start: function () {
        api.LMSInitialize('');
        if (api.LMSGetValue('cmi.core.lesson_status') === 'not attempted') api.LMSSetValue('cmi.core.lesson_status', 'incomplete');
      },
      // SCORM 1.2 scores are 0..100: the percentage.
      finish: function (r, seconds) {
        api.LMSSetValue('cmi.core.score.raw', String(r.percent));
        api.LMSSetValue('cmi.core.score.min', '0');
        api.LMSSetValue('cmi.core.score.max', '100');
        api.LMSSetValue('cmi.core.lesson_status', r.status);
        api.LMSSetValue('cmi.core.session_time', timespan12(seconds));
        api.LMSSetValue('cmi.core.exit', '');
        api.LMSCommit('');
        api.LMSFinish('');
        return Promise.resolve('recorded by the LMS');
      },
    };
  }

  function scorm2004(api) {
    return {
      name: 'SCORM 2004',
      start: function () {
        api.Initialize('');
        api.SetValue('cmi.completion_status', 'incomplete');
      },
      finish: function (r, seconds) {
        api.SetValue('cmi.score.raw', String(r.raw));
        api.SetValue('cmi.score.min', '0');
        api.SetValue('cmi.score.max', String(r.max));
        api.SetValue('cmi.score.scaled', String(r.scaled));
        api.SetValue('cmi.completion_status', 'completed');
        api.SetValue('cmi.success_status', r.status === 'completed' ? 'unknown' : r.status);
        api.SetValue('cmi.session_time', isoDuration(seconds));
        api.SetValue('cmi.exit', 'normal');
        api.Commit('');
        api.Terminate('');
        return Promise.resolve('recorded by the LMS');
      },
    };
  }

  /** The TinCan launch's actor: JSON, where old launchers give each field as a list. */
  function launchActor() {
    var raw = params.get('actor');
    if (!raw) return null;
    var actor = JSON.parse(raw);
    Object.keys(actor).forEach(function (k) {
      if (Array.isArray(actor[k]) && k !== 'member') actor[k] = actor[k][0];
    });
    if (!actor.objectType) actor.objectType = 'Agent';
    return actor;
  }

  function xapi(test) {
    // The LMS's launch parameters come after the package's own: the last endpoint wins.
    var endpoints = params.getAll('endpoint').filter(Boolean);
    var endpoint = endpoints.length ? endpoints[endpoints.length - 1] : pkg.course.targetServer;
    var actor = launchActor();
    return {
      name: 'xAPI',
      start: function () {},
      finish: function (r, seconds) {
        if (!endpoint || !actor) return Promise.reject(new Error('no LRS: the launch gave no endpoint or actor'));
        var result = {
          score: { raw: r.raw, min: 0, max: r.max, scaled: r.scaled },
          completion: true,
          duration: isoDuration(seconds),
        };
        if (r.status !== 'completed') result.success = r.status === 'passed';
        var context = { contextActivities: { parent: [{ objectType: 'Activity', id: pkg.course.activityId }] } };
        if (params.get('registration')) context.registration = params.get('registration');
        var object = {
          objectType: 'Activity',
          id: test.activityId,
          definition: { type: 'http://adlnet.gov/expapi/activities/assessment', name: { und: test.title } },
        };
        var now = new Date().toISOString();
        var statement = function (verb) {
          return {
            actor: actor,
            verb: { id: 'http://adlnet.gov/expapi/verbs/' + verb, display: { 'en-US': verb } },
            object: object,
            result: result,
            context: context,
            timestamp: now,
          };
        };
        var statements = [statement('completed')];
        if (r.status !== 'completed') statements.push(statement(r.status));
        var headers = { 'Content-Type': 'application/json', 'X-Experience-API-Version': '1.0.3' };
        if (params.get('auth')) headers.Authorization = params.get('auth');
        return fetch(endpoint.replace(/\/?$/, '/') + 'statements', {
          method: 'POST',
          headers: headers,
          body: JSON.stringify(statements),
        }).then(function (response) {
          if (!response.ok) throw new Error('the LRS answered ' + response.status);
          return 'sent to the LRS';
        });
      },
    };
  }

  function lms(test) {
    if (pkg.format === 'xapi') return xapi(test);
    var api = pkg.format === 'scorm12' ? findApi('API') : findApi('API_1484_11');
    if (api) return pkg.format === 'scorm12' ? scorm12(api) : scorm2004(api);
    return {
      name: 'none',
      start: function () {},
      finish: function () {
        return Promise.reject(new Error('no LMS found: the result is not recorded'));
      },
    };
  }

  // ---- the questions ----

  /** Each type's controls; returns a function reading the answer given, in the shape of
   * questions.ts. */
  var renderers = {
    single_choice: function (q, box, name) {
      q.choices.forEach(function (c) {
        box.appendChild(el('label', {}, [el('input', { type: 'radio', name: name, value: c.id }), ' ' + c.label]));
      });
      return function () {
        var checked = box.querySelector('input:checked');
        return { choiceId: checked ? checked.value : null };
      };
    },
    multiple_choice: function (q, box, name) {
      q.choices.forEach(function (c) {
        box.appendChild(el('label', {}, [el('input', { type: 'checkbox', name: name, value: c.id }), ' ' + c.label]));
      });
      return function () {
        return {
          choiceIds: Array.prototype.map.call(box.querySelectorAll('input:checked'), function (i) {
            return i.value;
          }),
        };
      };
    },
    true_false: function (q, box, name) {
      [
        ['true', 'True'],
        ['false', 'False'],
      ].forEach(function (v) {
        box.appendChild(el('label', {}, [el('input', { type: 'radio', name: name, value: v[0] }), ' ' + v[1]]));
      });
      return function () {
        var checked = box.querySelector('input:checked');
        return { value: checked ? checked.value === 'true' : null };
      };
    },
    matching: function (q, box, name) {
      var selects = q.choices.left.map(function (left, i) {
        var select = el('select', { name: name + '-' + i, 'data-left': left.id }, [el('option', { value: '', text: '—' })]);
        q.choices.right.forEach(function (right) {
          select.appendChild(el('option', { value: right.id, text: right.label }));
        });
        box.appendChild(el('label', {}, [left.label + ' ', select]));
        return select;
      });
      return function () {
        return {
          pairs: selects
            .filter(function (s) {
              return s.value !== '';
            })
            .map(function (s) {
              return { left: s.getAttribute('data-left'), right: s.value };
            }),
        };
      };
    },
    ordering: function (q, box) {
      var list = el('ol', { class: 'ordering' });
      q.choices.forEach(function (c) {
        var item = el('li', { 'data-id': c.id }, [el('span', { text: c.label })]);
        item.appendChild(
          el('button', {
            type: 'button',
            'aria-label': 'Move up: ' + c.label,
            text: '↑',
            onclick: function () {
              if (item.previousElementSibling) list.insertBefore(item, item.previousElementSibling);
            },
          }),
        );
        item.appendChild(
          el('button', {
            type: 'button',
            'aria-label': 'Move down: ' + c.label,
            text: '↓',
            onclick: function () {
              if (item.nextElementSibling) list.insertBefore(item.nextElementSibling, item);
            },
          }),
        );
        list.appendChild(item);
      });
      box.appendChild(list);
      return function () {
        return {
          order: Array.prototype.map.call(list.children, function (li) {
            return li.getAttribute('data-id');
          }),
        };
      };
    },
    fill_in: function (q, box, name) {
      // Blanks are runs of 3+ underscores in the text; blanks the text does not show follow it.
      var parts = q.text.split(/_{3,}/);
      var count = Math.max(parts.length - 1, q.expected.blanks.length);
      var inputs = [];
      var line = el('p');
      for (var i = 0; i < count; i++) {
        if (parts[i]) line.appendChild(document.createTextNode(parts[i]));
        var input = el('input', { type: 'text', name: name + '-' + i, 'aria-label': 'Blank ' + (i + 1) });
        inputs.push(input);
        line.appendChild(input);
      }
      if (parts.length - 1 >= count && parts[count]) line.appendChild(document.createTextNode(parts[count]));
      box.appendChild(line);
      return function () {
        return {
          blanks: inputs.map(function (input) {
            return input.value;
          }),
        };
      };
    },
    numeric: function (q, box, name) {
      var input = el('input', { type: 'text', inputmode: 'decimal', name: name, 'aria-label': 'Number' });
      box.appendChild(input);
      return function () {
        var text = input.value.trim().replace(',', '.');
        var value = text === '' ? NaN : Number(text);
        return { value: isFinite(value) ? value : null };
      };
    },
    free_text: function (q, box, name) {
      var area = el('textarea', { name: name, 'aria-label': 'Answer' });
      box.appendChild(area);
      box.appendChild(el('p', { class: 'note', text: 'Graded by hand: not counted in this score.' }));
      return function () {
        return { text: area.value };
      };
    },
  };

  function renderQuestion(q, index, readers) {
    var box = el('fieldset', { class: 'question', 'data-question-id': q.id, 'data-type': q.type }, [
      el('legend', { text: q.title + ' (' + q.maxScore + ' pt' + (q.maxScore === 1 ? '' : 's') + ')' }),
    ]);
    // fill_in shows its text with the blanks in it.
    if (q.text && q.type !== 'fill_in') box.appendChild(el('p', { text: q.text }));
    (q.media || []).forEach(function (m) {
      // Linked, not embedded: the package fetches nothing by itself.
      box.appendChild(
        el('p', { class: 'media' }, [el('a', { href: m.url, target: '_blank', rel: 'noopener', text: m.type + ': ' + m.url })]),
      );
    });
    readers[q.id] = renderers[q.type](q, box, 'q' + index);
    return box;
  }

  function playTest(test) {
    var adapter = lms(test);
    var readers = {};
    document.title = test.title;
    root.textContent = '';
    root.appendChild(el('h1', { text: test.title }));
    if (test.description) root.appendChild(el('p', { text: test.description }));
    try {
      adapter.start();
    } catch (e) {
      root.appendChild(el('p', { class: 'warning', text: 'LMS: ' + e.message }));
    }
    var n = 0;
    test.blocks.forEach(function (block) {
      var section = el('section', { class: 'block' }, [el('h2', { text: block.title })]);
      block.questions.forEach(function (q) {
        section.appendChild(renderQuestion(q, n++, readers));
      });
      root.appendChild(section);
    });
    var result = el('div', { id: 'result', role: 'status' });
    var finish = el('button', {
      type: 'button',
      id: 'finish',
      text: 'Finish',
      onclick: function () {
        finish.disabled = true;
        var answers = {};
        Object.keys(readers).forEach(function (id) {
          answers[id] = readers[id]();
        });
        root.querySelectorAll('input, select, textarea, .ordering button').forEach(function (c) {
          c.disabled = true;
        });
        var r = Score.scoreTest(test, answers);
        var seconds = (Date.now() - startedAt) / 1000;
        result.className = r.status;
        result.setAttribute('data-status', r.status);
        result.textContent = 'Score: ' + r.raw + ' / ' + r.max + ' (' + r.percent + '%) — ' + r.status;
        var sent = el('p', { id: 'sent', text: 'Sending…' });
        result.appendChild(sent);
        var report;
        try {
          report = adapter.finish(r, seconds);
        } catch (e) {
          report = Promise.reject(e);
        }
        report.then(
          function (what) {
            sent.textContent = 'Result ' + what + '.';
            sent.setAttribute('data-done', 'ok');
          },
          function (e) {
            sent.textContent = 'Result not recorded: ' + e.message;
            sent.setAttribute('data-done', 'error');
          },
        );
      },
    });
    root.appendChild(finish);
    root.appendChild(result);
  }

  function menu() {
    document.title = pkg.course.name;
    root.textContent = '';
    root.appendChild(el('h1', { text: pkg.course.name }));
    if (pkg.course.description) root.appendChild(el('p', { text: pkg.course.description }));
    var list = el('ul');
    pkg.tests.forEach(function (t, i) {
      var query = new URLSearchParams(params);
      query.set('test', String(i));
      list.appendChild(el('li', {}, [el('a', { href: '?' + query.toString(), text: t.title })]));
    });
    root.appendChild(list);
  }

  var index = params.get('test');
  if (index === null && pkg.tests.length === 1) index = '0';
  var test = index === null ? null : pkg.tests[Number(index)];
  if (index === null) menu();
  else if (!test) root.textContent = 'No test ' + index + ' in this package.';
  else playTest(test);
})();
