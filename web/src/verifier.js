// windledger: a receipt checked in the person's own browser (docs/web.md,
// "The one script"). It reads the receipt file the person chose, the farm's
// key and the witnesses' keys they typed, and checks, with the browser's
// own SHA-256 and Ed25519 (Web Crypto) and nothing else: the checkpoint's
// signature by the farm's key, the witnesses' co-signatures against the
// quorum, and the RFC 9162 inclusion proof from the event's leaf to the
// checkpoint's root. It sends nothing anywhere (the page's
// Content-Security-Policy forbids it any connection).
"use strict";

const encoder = new TextEncoder();

function fromBase64(text) {
  const raw = atob(text);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function fromHex(text) {
  if (!/^([0-9a-f]{2})+$/.test(text)) throw new Error("une empreinte s'écrit en hexadécimal");
  return Uint8Array.from(text.match(/../g).map((h) => parseInt(h, 16)));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
}

// A key `<name>+<hex key id>+<base64(type || key)>`, its id checked.
async function readKey(text, type) {
  const first = text.indexOf("+");
  const second = text.indexOf("+", first + 1);
  if (first <= 0 || second < 0) throw new Error("une clé s'écrit <nom>+<identifiant>+<clé>");
  const name = text.slice(0, first);
  const id = fromHex(text.slice(first + 1, second));
  const bytes = fromBase64(text.slice(second + 1));
  if (bytes.length !== 33 || bytes[0] !== type) {
    throw new Error(type === 1 ? "ce n'est pas la clé d'un registre" : "ce n'est pas la clé d'un témoin");
  }
  const expected = (await sha256(encoder.encode(name + "\n"), bytes)).slice(0, 4);
  if (!same(expected, id)) throw new Error("l'identifiant de la clé ne correspond pas à la clé");
  const key = await crypto.subtle.importKey("raw", bytes.slice(1), { name: "Ed25519" }, false, ["verify"]);
  return { name, id, key };
}

// The note's text (its lines before the blank one, each with its newline)
// and its signature lines as [name, blob].
function splitNote(note) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new Error("le point de contrôle n'est pas signé");
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split("\n").filter((l) => l !== "");
  const signatures = lines.map((line) => {
    if (!line.startsWith("\u2014 ")) throw new Error("une ligne de signature est mal formée");
    const rest = line.slice(2);
    const space = rest.indexOf(" ");
    return [rest.slice(0, space), fromBase64(rest.slice(space + 1))];
  });
  return { text, signatures };
}

async function signedBy(note, key) {
  for (const [name, blob] of note.signatures) {
    if (name === key.name && blob.length === 68 && same(blob.slice(0, 4), key.id)) {
      return crypto.subtle.verify("Ed25519", key.key, blob.slice(4), encoder.encode(note.text));
    }
  }
  return false;
}

async function cosignedBy(note, key) {
  for (const [name, blob] of note.signatures) {
    if (name === key.name && blob.length === 76 && same(blob.slice(0, 4), key.id)) {
      let time = 0n;
      for (const b of blob.slice(4, 12)) time = time * 256n + BigInt(b);
      const message = encoder.encode("cosignature/v1\ntime " + time.toString() + "\n" + note.text);
      return crypto.subtle.verify("Ed25519", key.key, blob.slice(12), message);
    }
  }
  return false;
}

// RFC 9162, 2.1.3.2: the root the audit path leads to from the leaf.
async function rootFrom(index, size, leaf, path) {
  if (index >= size) throw new Error("l'événement n'est pas dans l'arbre");
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  const one = new Uint8Array([1]);
  for (const p of path) {
    if (sn === 0) throw new Error("la preuve est trop longue");
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(one, p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await sha256(one, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error("la preuve est trop courte");
  return r;
}

async function check(receipt, farmKey, witnessKeys, quorum) {
  const key = await readKey(farmKey.trim(), 1);
  const note = splitNote(receipt.checkpoint);
  if (!(await signedBy(note, key))) {
    throw new Error("le point de contrôle du reçu n'est pas signé par cette clé : il a été modifié, ou c'est celui d'un autre registre");
  }
  let cosigned = [];
  if (witnessKeys.length > 0) {
    for (const text of witnessKeys) {
      const witness = await readKey(text, 4);
      if (await cosignedBy(note, witness)) cosigned.push(witness.name);
    }
    if (cosigned.length < quorum) {
      throw new Error("le point de contrôle n'est cosigné que par " + cosigned.length + " des témoins donnés, " + quorum + " sont exigés");
    }
  }
  const lines = note.text.split("\n");
  if (lines[0] !== receipt.origin) throw new Error("le point de contrôle est celui d'un autre journal");
  const size = Number(lines[1]);
  const root = fromBase64(lines[2]);
  const position = receipt.position;
  if (!Number.isSafeInteger(position) || position < 1) throw new Error("la position du reçu n'est pas valable");
  const entry = new Uint8Array(40);
  let p = position;
  for (let i = 7; i >= 0; i--) {
    entry[i] = p % 256;
    p = Math.floor(p / 256);
  }
  entry.set(fromHex(receipt.hash), 8);
  const leaf = await sha256(new Uint8Array([0]), entry);
  const path = receipt.proof.map(fromBase64);
  const found = await rootFrom(position - 1, size, leaf, path);
  if (!same(found, root)) throw new Error("la preuve ne mène pas à la racine du point de contrôle : le reçu a été modifié");
  return { position, size, signer: key.name, cosigned };
}

function show(text, ok) {
  const out = document.getElementById("resultat");
  out.textContent = text;
  out.className = ok ? "badge ok" : "badge neutral";
}

document.getElementById("verifier").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  try {
    const file = form.elements.recu.files[0];
    if (!file) throw new Error("choisissez le fichier du reçu");
    const receipt = JSON.parse(await file.text());
    const witnesses = form.elements.temoins.value.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    const quorum = Number(form.elements.quorum.value || witnesses.length);
    const r = await check(receipt, form.elements.cle.value, witnesses, quorum);
    let text = "Reçu vérifié : l'événement n°" + r.position + " figure dans le journal de " + r.size +
      " événements dont le point de contrôle est signé par " + r.signer;
    if (r.cosigned.length > 0) text += " et cosigné par " + r.cosigned.join(", ");
    show(text + ".", true);
  } catch (e) {
    show("Reçu non vérifié : " + e.message + ".", false);
  }
});
