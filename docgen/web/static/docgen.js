/* docgen 签署页面: the only script, written here (no CDN, no inline script: the CSP forbids it).
   1. 「签署」 stays disabled until 「我已阅读全文」 is ticked (the server checks it again).
   2. The handwriting canvas: draw with mouse or finger, then the PNG goes into a hidden field.
   3. Slow forms (签署, 激活, 面对面签订: seconds of scrypt) carry data-busy: on submit the
      button is disabled and the message shown, so nobody thinks it hung or clicks again. */
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    var note = document.createElement("p");
    note.className = "hint busy-note";
    note.setAttribute("role", "status");
    form.appendChild(note);
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      form.dataset.sent = "1";
      note.textContent = form.getAttribute("data-busy");
      form.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }  /* back to a page from the cache: usable again */
    document.querySelectorAll("form[data-busy]").forEach(function (form) {
      form.dataset.sent = "";
      form.querySelectorAll(".busy-note").forEach(function (n) { n.textContent = ""; });
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    });
  });
  document.querySelectorAll("form.sign-form").forEach(function (form) {
    var box = form.querySelector(".read-box");
    var button = form.querySelector(".sign-button");
    if (!box || !button) { return; }
    var sync = function () { button.disabled = !box.checked; };
    box.addEventListener("change", sync);
    sync();
  });

  var canvas = document.querySelector("canvas.handwriting");
  if (!canvas) { return; }
  var form = canvas.closest("form");
  var field = form.querySelector("input[name=png]");
  var save = form.querySelector(".save-button");
  var clear = document.querySelector(".clear-button");
  var ctx = canvas.getContext("2d");
  var drawing = false;
  var inked = false;
  var fit = function () {
    var ratio = window.devicePixelRatio || 1;
    var box = canvas.getBoundingClientRect();
    canvas.width = Math.round(box.width * ratio);
    canvas.height = Math.round(box.height * ratio);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#000";
  };
  var point = function (event) {
    var box = canvas.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  };
  canvas.addEventListener("pointerdown", function (event) {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    var p = point(event);
    ctx.beginPath();
    ctx.moveTo(p.x, p.y);
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    var p = point(event);
    ctx.lineTo(p.x, p.y);
    ctx.stroke();
    inked = true;
    save.disabled = false;
    event.preventDefault();
  });
  var stop = function () { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  if (clear) {
    clear.addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      inked = false;
      save.disabled = true;
    });
  }
  form.addEventListener("submit", function (event) {
    if (!inked) { event.preventDefault(); return; }
    field.value = canvas.toDataURL("image/png");
  });
  fit();
  save.disabled = true;
}());
