// "Add my current position": fills the raise form's hidden map point from the phone's
// location (asked only when the person taps the button). Without JavaScript or without
// permission the form works as before, with the place and the words of the exact spot.
(function () {
  "use strict";
  var box = document.getElementById("locate");
  if (!box || !navigator.geolocation) {
    return;
  }
  var button = document.getElementById("locate-button");
  var status = document.getElementById("locate-status");
  var lat = document.getElementById("latitude");
  var lng = document.getElementById("longitude");
  box.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = box.getAttribute("data-asking");
    navigator.geolocation.getCurrentPosition(function (position) {
      lat.value = position.coords.latitude.toFixed(6);
      lng.value = position.coords.longitude.toFixed(6);
      status.textContent = box.getAttribute("data-done") + " " + lat.value + ", " + lng.value;
    }, function () {
      status.textContent = box.getAttribute("data-failed");
    }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
  });
}());
