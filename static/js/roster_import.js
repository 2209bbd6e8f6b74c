// A roster import's page while the import runs: asks the job's status URL every two
// seconds and shows the figures; once the job has finished, reloads the page, which
// then shows the outcome. Without JavaScript the page refreshes itself (<noscript>).
(function () {
  "use strict";
  var card = document.querySelector("[data-status-url]");
  if (!card || !window.fetch) {
    return;
  }
  var url = card.getAttribute("data-status-url");
  var text = card.querySelector("[data-status-text]");
  var bar = card.querySelector("progress");
  var label = document.querySelector("[data-state-label]");
  var EVERY_MS = 2000;
  var AFTER_ERROR_MS = 10000;

  function show(job) {
    text.textContent = job.text;
    if (label) {
      label.textContent = job.state_label;
    }
    var counted = job.rows_total && (job.rows_done || job.phase !== "write");
    if (counted) {
      bar.max = job.rows_total;
      bar.value = job.rows_done;
      bar.textContent = job.rows_done + " / " + job.rows_total;
    } else {
      bar.removeAttribute("value");
    }
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (job) {
        if (job.finished) {
          window.location.reload();
          return;
        }
        show(job);
        window.setTimeout(poll, EVERY_MS);
      })
      .catch(function () {
        window.setTimeout(poll, AFTER_ERROR_MS);
      });
  }

  window.setTimeout(poll, EVERY_MS);
})();
