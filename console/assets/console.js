// Progressive enhancement only: every form works without this script.
(function () {
  "use strict";
  function each(sel, fn) { Array.prototype.forEach.call(document.querySelectorAll(sel), fn); }

  // Feature type: offer only features of that type; metered fields only
  // for metered features.
  each("[data-feature-type]", function (typeSel) {
    var form = typeSel.form;
    var feature = form.querySelector("[data-feature]");
    var metered = form.querySelector("[data-metered]");
    function sync() {
      var t = typeSel.value;
      if (feature) {
        Array.prototype.forEach.call(feature.options, function (o) {
          var other = o.dataset.type && o.dataset.type !== t;
          o.hidden = other;
          o.disabled = other;
          if (other && o.selected) { feature.value = ""; }
        });
      }
      if (metered) { metered.hidden = t !== "metered"; }
    }
    typeSel.addEventListener("change", sync);
    sync();
  });

  // A select or checkbox that makes other inputs relevant.
  each("[data-toggles]", function (ctl) {
    var targets = ctl.dataset.toggles.split(" ").map(function (id) { return document.getElementById(id); });
    function sync() {
      var on = ctl.type === "checkbox" ? ctl.checked : (ctl.value === "date");
      targets.forEach(function (t) { if (t) { t.hidden = !on; } });
    }
    ctl.addEventListener("change", sync);
    sync();
  });

  // Manage access: select the page, or all matching, and count.
  var boxes = document.querySelectorAll("input[name=customer][form=bulk]");
  var count = document.querySelector("[data-selected-count]");
  var allMatching = document.querySelector("[data-all-matching]");
  function recount() {
    if (!count) { return; }
    var n = 0;
    Array.prototype.forEach.call(boxes, function (b) { if (b.checked) { n++; } });
    count.textContent = allMatching && allMatching.checked ? "" : (n ? n + " selected" : "");
  }
  each("[data-select-page]", function (all) {
    all.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes, function (b) { b.checked = all.checked; });
      recount();
    });
  });
  if (allMatching) {
    allMatching.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes, function (b) { b.checked = allMatching.checked; b.disabled = allMatching.checked; });
      recount();
    });
  }
  Array.prototype.forEach.call(boxes, function (b) { b.addEventListener("change", recount); });
})();
