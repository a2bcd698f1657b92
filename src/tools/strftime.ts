// strftime for nsq_to_file's --datetime-format (U-FILE-NAME), local time.
// Supported: %Y %y %m %d %H %I %M %S %p %B %b %A %a %Z %z %j %%; anything else
// is copied as is.

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const two = (n: number) => String(n).padStart(2, "0");

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d).find((p) => p.type === "timeZoneName");
  return part?.value ?? "UTC";
}

function zoneOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  return `${sign}${two(Math.floor(a / 60))}${two(a % 60)}`;
}

export function strftime(format: string, d: Date): string {
  let out = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c !== "%" || i + 1 >= format.length) {
      out += c;
      continue;
    }
    const k = format[++i]!;
    switch (k) {
      case "Y":
        out += String(d.getFullYear());
        break;
      case "y":
        out += two(d.getFullYear() % 100);
        break;
      case "m":
        out += two(d.getMonth() + 1);
        break;
      case "d":
        out += two(d.getDate());
        break;
      case "H":
        out += two(d.getHours());
        break;
      case "I":
        out += two(d.getHours() % 12 === 0 ? 12 : d.getHours() % 12);
        break;
      case "M":
        out += two(d.getMinutes());
        break;
      case "S":
        out += two(d.getSeconds());
        break;
      case "p":
        out += d.getHours() < 12 ? "AM" : "PM";
        break;
      case "B":
        out += MONTHS[d.getMonth()];
        break;
      case "b":
        out += MONTHS[d.getMonth()]!.slice(0, 3);
        break;
      case "A":
        out += DAYS[d.getDay()];
        break;
      case "a":
        out += DAYS[d.getDay()]!.slice(0, 3);
        break;
      case "Z":
        out += zoneName(d);
        break;
      case "z":
        out += zoneOffset(d);
        break;
      case "j": {
        const start = new Date(d.getFullYear(), 0, 1);
        const day = Math.floor((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(start.getFullYear(), 0, 1)) / 86_400_000) + 1;
        out += String(day).padStart(3, "0");
        break;
      }
      case "%":
        out += "%";
        break;
      default:
        out += "%" + k;
    }
  }
  return out;
}
