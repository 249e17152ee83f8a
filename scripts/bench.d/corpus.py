#!/usr/bin/env python3
"""Deterministic corpus of citizens' complaint emails, written straight into a Maildir.

    corpus.py complaints --n N --seed S --out DIR   realistic mix (see below)
    corpus.py small      --n N --seed S --out DIR   short plain-text complaints, one sender each
    corpus.py big        --size BYTES --seed S --out DIR   one complaint with one attachment
    corpus.py touch      --out DIR                 set mtimes (= IMAP INTERNALDATE) to "now"

The realistic mix: Indonesian text; ~45 % text/plain, ~20 % HTML-only, ~35 %
multipart/alternative; ~20 % carry one attachment (photo, PDF, document) of 50 KB-2 MB
(log-uniform, random bytes, base64); sender names and subjects often RFC 2047-encoded,
some attachment names RFC 2231-encoded; ~6 % are replies (In-Reply-To/References) from
the same citizen to one of their earlier messages. The same N and seed give the same bytes.

DIR becomes a Maildir (cur/ new/ tmp/); files are named
`<secs>.M<i>P<seed>.bench,S=<size>,W=<crlf size>:2,` so Dovecot trusts the sizes and
assigns UIDs in message order, and are owned by the `mail` user like the rest of the
stack's mail. Prints a JSON summary on stdout.
"""

import argparse
import base64
import hashlib
import json
import math
import os
import pwd
import quopri
import random
import sys
import textwrap
import time

OFFICE = "diskominfo@kaltaraprov.go.id"
DATE_BASE = 1795996800  # 2026-12-01T00:00:00Z: Date headers only (INTERNALDATE is the mtime)

FIRST = """Budi Siti Agus Dewi Rudi Sri Andi Nur Yusuf Rina Hendra Wati Bambang Ani Joko Lestari
Ahmad Fitri Dedi Indah Eko Yuni Hadi Ratna Iwan Sari Fajar Maya Gunawan Putri Irfan Ayu
Rizky Dian Arif Wulan Taufik Nanda Heri Mega Rahmat Intan Samsul Novi Teguh Fauziah Wahyu
Ernawati Yohanes Maria Petrus Theresia Abdul Halimah Syamsuddin Daeng Lukas Agustina""".split()
LAST = """Santoso Wijaya Saputra Hidayat Lestari Pratama Kusuma Siregar Nasution Harahap
Simanjuntak Rahman Setiawan Gunawan Hasibuan Purba Tarigan Lubis Ginting Sitompul Wibowo
Suryadi Halim Tanjung Pane Situmorang Ramadhan Firmansyah Kurniawan Susanto Permana
Nugroho Mahendra Utomo Syahputra Anwar Yusuf Malik Laing Ding Lenjau Apui Bilung Ajang""".split()
PROVIDERS = ["gmail.com"] * 10 + ["yahoo.co.id"] * 3 + ["yahoo.com", "ymail.com", "outlook.com",
             "hotmail.com", "icloud.com", "telkom.net", "bulungankab.go.id", "rocketmail.com"]
PLACES = ["Tanjung Selor", "Tarakan", "Nunukan", "Malinau", "Tideng Pale", "Sebatik",
          "Tanjung Palas", "Sesayap", "Krayan", "Long Bawan", "Juata Laut", "Karang Anyar",
          "Kampung Enam", "Sembakung", "Bunyu", "Pulau Derawan", "Mentarang", "Lumbis"]
TOPICS = [
    ("Jalan rusak", "jalan di depan rumah kami rusak parah dan berlubang",
     "Setiap hujan lubang-lubang itu tergenang air sehingga membahayakan pengendara motor."),
    ("Lampu jalan mati", "lampu penerangan jalan umum sudah mati lebih dari dua minggu",
     "Pada malam hari jalan menjadi sangat gelap dan warga takut keluar rumah."),
    ("Pelayanan KTP elektronik", "pembuatan KTP elektronik saya belum selesai sejak tiga bulan lalu",
     "Petugas selalu mengatakan blangko habis tanpa kepastian kapan tersedia."),
    ("Air PDAM tidak mengalir", "air PDAM tidak mengalir ke rumah-rumah warga selama seminggu",
     "Kami terpaksa membeli air galon dengan biaya yang tidak sedikit."),
    ("Sampah menumpuk", "sampah di tempat pembuangan sementara tidak diangkut berhari-hari",
     "Baunya menyengat dan mulai banyak lalat serta tikus di sekitar permukiman."),
    ("Sinyal internet desa", "jaringan internet di desa kami sangat lemah bahkan sering hilang",
     "Anak-anak kesulitan mengikuti pembelajaran daring dan pelaku UMKM tidak bisa berjualan."),
    ("Banjir", "saluran drainase tersumbat sehingga terjadi banjir setiap hujan deras",
     "Air masuk ke rumah warga setinggi lutut orang dewasa."),
    ("Dugaan pungutan liar", "ada oknum yang meminta uang tambahan saat pengurusan surat",
     "Kami diminta membayar Rp 150.000 tanpa kuitansi resmi."),
    ("Website pemerintah tidak bisa diakses", "situs layanan perizinan daring tidak bisa dibuka",
     "Muncul pesan galat setiap kali kami mencoba mengunggah berkas persyaratan."),
    ("Jembatan rusak", "jembatan penghubung antar kampung papannya banyak yang lapuk",
     "Anak sekolah setiap hari melewati jembatan itu dengan risiko terjatuh ke sungai."),
    ("Pelayanan puskesmas", "antrean di puskesmas sangat panjang dan dokter sering tidak hadir",
     "Pasien lansia harus menunggu dari pagi hingga siang hari."),
    ("Bantuan sosial tidak tepat sasaran", "bantuan sosial tidak diterima oleh warga yang berhak",
     "Beberapa penerima justru warga yang mampu secara ekonomi."),
]
FILLER = [
    "Kami sudah melaporkan hal ini kepada pihak kelurahan namun belum ada tindak lanjut.",
    "Mohon kiranya Bapak/Ibu dapat segera menindaklanjuti laporan ini.",
    "Kondisi ini sudah berlangsung cukup lama dan sangat meresahkan warga.",
    "Sebagai bahan pertimbangan, saya lampirkan keterangan tambahan di bawah ini.",
    "Warga sekitar juga mengeluhkan hal yang sama dan siap memberikan keterangan.",
    "Kami berharap pemerintah provinsi dapat berkoordinasi dengan dinas terkait.",
    "Terima kasih atas perhatian dan kerja sama Bapak/Ibu sekalian.",
    "Apabila diperlukan, saya bersedia dihubungi untuk memberikan penjelasan lebih lanjut.",
    "Lokasi tepatnya berada tidak jauh dari masjid dan sekolah dasar negeri setempat.",
    "Kejadian terakhir terjadi pada hari Senin pagi sekitar pukul 07.30 WITA.",
    "Kami mohon agar identitas pelapor dirahasiakan demi keamanan keluarga kami.",
    "Menurut informasi dari ketua RT, laporan serupa pernah disampaikan tahun lalu.",
]
GREETINGS = ["Yth. Bapak/Ibu Diskominfo Provinsi Kalimantan Utara,", "Selamat pagi Bapak/Ibu,",
             "Assalamualaikum wr. wb.,", "Dengan hormat,", "Selamat siang,", "Kepada Yth. Admin Layanan Pengaduan,"]
CLOSINGS = ["Hormat saya,", "Salam,", "Terima kasih,", "Wassalamualaikum wr. wb.,", "Hormat kami,"]
FOLLOW = ["Mohon maaf, saya ingin menanyakan perkembangan laporan saya sebelumnya.",
          "Berikut saya tambahkan foto terbaru dari lokasi.",
          "Sampai hari ini kondisinya belum berubah, mohon segera ditindaklanjuti.",
          "Apakah laporan saya sudah diteruskan ke dinas terkait?"]
ATTACH = [("image/jpeg", "foto_lokasi_{i}.jpg"), ("image/jpeg", "IMG_2026{i:04d}.jpg"),
          ("application/pdf", "surat_keterangan_{i}.pdf"), ("image/png", "tangkapan_layar_{i}.png"),
          ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "kronologi_kejadian_{i}.docx"), ("application/pdf", "Laporan Warga RT {i}.pdf")]


def encoded_word(text, rng):
    """RFC 2047: B or Q encoding of UTF-8 text."""
    data = text.encode("utf-8")
    if rng.random() < 0.5:
        return "=?UTF-8?B?" + base64.b64encode(data).decode() + "?="
    q = "".join(chr(b) if (chr(b).isalnum() and b < 128) else ("_" if b == 32 else "=%02X" % b) for b in data)
    return "=?UTF-8?Q?" + q + "?="


def fold_words(words, width=70):
    """Folds encoded words onto continuation lines (RFC 2047 words of at most 75 chars)."""
    return "\n ".join(words)


def encode_subject(subject, rng, force):
    if not force and all(ord(c) < 128 for c in subject):
        return subject
    # split into chunks so each encoded word stays under 75 characters
    parts, chunk = [], ""
    for ch in subject:
        if len((chunk + ch).encode()) > 30:
            parts.append(chunk)
            chunk = ""
        chunk += ch
    if chunk:
        parts.append(chunk)
    return fold_words([encoded_word(p, rng) for p in parts])


def rfc2822_date(ts):
    return time.strftime("%a, %d %b %Y %H:%M:%S +0800", time.gmtime(ts + 8 * 3600))


def wrap(text):
    return "\n".join(textwrap.fill(p, 76) if p else "" for p in text.split("\n"))


def qp(text):
    return quopri.encodestring(text.encode("utf-8")).decode("ascii")


def b64lines(data):
    return base64.encodebytes(data).decode("ascii")


B64_TABLE = bytes(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[b & 63] for b in range(256))


def b64_random(seed, size):
    """Base64 (76-character lines) of about `size` deterministic random bytes, built
    directly (SHAKE-128 stream mapped onto the alphabet: any such text is the base64 of
    some random bytes), ~20x faster than random.randbytes + base64.encodebytes.
    Returns (text, decoded size)."""
    b64_len = 4 * ((size + 2) // 3)
    full, rem = divmod(b64_len, 76)
    buf = bytearray(hashlib.shake_128(seed.encode()).digest(full * 77 + rem).translate(B64_TABLE))
    if full:
        buf[76:full * 77:77] = b"\n" * full
    if rem:
        buf += b"\n"
    return buf.decode("ascii"), b64_len // 4 * 3


def text_part(text, rng):
    """(headers, body) of a text/plain part in one of the usual transfer encodings."""
    r = rng.random()
    if r < 0.45:
        return ("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n",
                qp(text))
    if r < 0.85:
        return ("Content-Type: text/plain; charset=UTF-8; format=flowed\nContent-Transfer-Encoding: 8bit\n",
                wrap(text) + "\n")
    return ("Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: base64\n",
            b64lines(text.encode("utf-8")))


def html_of(text):
    paras = [p for p in text.split("\n\n") if p.strip()]
    body = "".join("<p>" + p.replace("&", "&amp;").replace("<", "&lt;").replace("\n", "<br>\n") + "</p>\n"
                   for p in paras)
    return ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head>\n'
            '<body><div dir="ltr" style="font-family:Arial,sans-serif;font-size:14px">\n'
            + body + "</div></body></html>\n")


def html_part(text):
    return ("Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n",
            qp(html_of(text)))


class Corpus:
    def __init__(self, n, seed):
        self.n = n
        self.seed = seed
        self.rng = random.Random(seed)
        self.people = []  # (name, email)
        self.sent = []  # (index, sender, message_id, subject, references)

    def person(self):
        rng = self.rng
        # a pool of about 0.8 N citizens: most write once, some several times
        pool = max(8, int(self.n * 0.8))
        k = rng.randrange(pool)
        prng = random.Random(f"{self.seed}/person/{k}")
        first, last = prng.choice(FIRST), prng.choice(LAST)
        name = f"{first} {last}"
        if prng.random() < 0.1:
            name = f"{first} {last} S.Pd."
        local = f"{first}.{last}".lower() if prng.random() < 0.5 else f"{first.lower()}{last.lower()[:4]}{k % 997}"
        return name, f"{local}{k}@{prng.choice(PROVIDERS)}"

    def body(self, topic, place, name, follow=False):
        rng = self.rng
        title, what, why = topic
        paras = [rng.choice(GREETINGS), ""]
        if follow:
            paras.append(rng.choice(FOLLOW))
        else:
            paras.append(f"Saya {name}, warga {place}, ingin menyampaikan pengaduan bahwa {what}. {why}")
        fill = rng.sample(FILLER, rng.randint(1, 5))
        paras.append(" ".join(fill))
        if rng.random() < 0.3:
            paras.append(" ".join(rng.sample(FILLER, 3)) + " " + " ".join(rng.sample(FILLER, 3)))
        if rng.random() < 0.15:
            paras.append("Rincian: “" + title.lower() + "” — dilaporkan sejak " +
                         rng.choice(["pekan lalu", "bulan lalu", "awal tahun"]) + ".")
        paras += ["", rng.choice(CLOSINGS), name, f"{place}, Kalimantan Utara"]
        if rng.random() < 0.25:
            paras += ["", "Dikirim dari Yahoo Mail di Android" if rng.random() < 0.5 else "Sent from my iPhone"]
        return "\n\n".join(p for p in paras if p is not None).replace("\n\n\n\n", "\n\n")

    def message(self, i, small=False):
        rng = self.rng
        reply_to = None
        if not small and i > 20 and rng.random() < 0.06:
            reply_to = self.sent[rng.randrange(len(self.sent))]
        if reply_to:
            name, email = reply_to[1]
            subject = "Re: " + reply_to[3]
        else:
            if small:
                prng = random.Random(f"{self.seed}/small/{i}")
                first, last = prng.choice(FIRST), prng.choice(LAST)
                name, email = f"{first} {last}", f"{first.lower()}.{last.lower()}{i}@{prng.choice(PROVIDERS)}"
            else:
                name, email = self.person()
        topic = rng.choice(TOPICS)
        place = rng.choice(PLACES)
        if not reply_to:
            subject = f"{topic[0]} di {place}" if rng.random() < 0.7 else f"Pengaduan: {topic[0].lower()} - {place}"
            if rng.random() < 0.2:
                subject += " – mohon segera ditindaklanjuti"  # en dash: needs encoding
        text = self.body(topic, place, name, follow=bool(reply_to))
        host = email.split("@", 1)[1]
        message_id = f"{i:07d}.{rng.getrandbits(48):012x}@{'mail.' + host}"
        date = DATE_BASE + i * 7

        encode_name = rng.random() < 0.5
        display = encoded_word(name, rng) if encode_name else f'"{name}"'
        headers = []
        if rng.random() < 0.5:
            headers.append(f"Received: from mail.{host} (mail.{host} [10.{i % 250}.{(i // 250) % 250}.7])\n"
                           f"\tby mx.kaltaraprov.go.id with ESMTPS id {rng.getrandbits(40):010x}\n"
                           f"\tfor <{OFFICE}>; {rfc2822_date(date + 3)}")
        headers += [f"From: {display} <{email}>", f"To: Diskominfo Kaltara <{OFFICE}>",
                    f"Subject: {encode_subject(subject, rng, rng.random() < 0.4)}",
                    f"Date: {rfc2822_date(date)}", f"Message-ID: <{message_id}>"]
        references = []
        if reply_to:
            references = reply_to[4] + [reply_to[2]]
            headers.append(f"In-Reply-To: <{reply_to[2]}>")
            headers.append("References: " + "\n ".join(f"<{r}>" for r in references[-5:]))
        headers.append("MIME-Version: 1.0")
        if rng.random() < 0.3:
            headers.append("X-Mailer: " + rng.choice(["Microsoft Outlook 16.0", "iPhone Mail (20G75)",
                                                      "Yahoo Mail Android", "Thunderbird 115.5.0"]))

        if small:
            kind = "plain"
        else:
            r = rng.random()
            kind = "plain" if r < 0.45 else ("html" if r < 0.65 else "alternative")
        attachment = None
        if not small and rng.random() < 0.2:
            size = int(math.exp(rng.uniform(math.log(50_000), math.log(2_000_000))))
            ctype, fname = rng.choice(ATTACH)
            attachment = (ctype, fname.format(i=i), size)

        if kind == "plain":
            body_headers, body = text_part(text, rng)
        elif kind == "html":
            body_headers, body = html_part(text)
        else:
            b = f"000000000000{rng.getrandbits(40):010x}alt"
            h1, p1 = text_part(text, rng)
            h2, p2 = html_part(text)
            body_headers = f'Content-Type: multipart/alternative; boundary="{b}"\n'
            body = f"--{b}\n{h1}\n{p1}\n--{b}\n{h2}\n{p2}\n--{b}--\n"
        payload_bytes = 0
        if attachment:
            ctype, fname, size = attachment
            data, payload_bytes = b64_random(f"{self.seed}/attachment/{i}", size)
            b = f"000000000000{rng.getrandbits(40):010x}mix"
            if all(ord(c) < 128 for c in fname) and rng.random() < 0.7:
                disp = f'attachment; filename="{fname}"'
                ct = f'{ctype}; name="{fname}"'
            else:
                star = "".join(c if c.isalnum() or c in "._-" else "%%%02X" % ord(c) for c in fname)
                disp = f"attachment;\n filename*=UTF-8''{star}"
                ct = f'{ctype}; name="{encoded_word(fname, rng)}"'
            body = (f"--{b}\n{body_headers}\n{body}\n--{b}\nContent-Type: {ct}\n"
                    f"Content-Disposition: {disp}\nContent-Transfer-Encoding: base64\n\n"
                    f"{data}--{b}--\n")
            body_headers = f'Content-Type: multipart/mixed; boundary="{b}"\n'
        raw = ("\n".join(headers) + "\n" + body_headers + "\n" + body).encode("utf-8")
        if not reply_to:
            self.sent.append((i, (name, email), message_id, subject, references))
        return raw, {"kind": kind, "attachment": bool(attachment), "reply": bool(reply_to),
                     "attachment_bytes": payload_bytes}


def maildir(out):
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    return os.path.join(out, "cur")


def write(cur, i, seed, raw, mtime, owner):
    size = len(raw)
    vsize = size + raw.count(b"\n")  # the IMAP (CRLF) size: Dovecot trusts W=
    name = f"{mtime}.M{i:06d}P{seed}.bench,S={size},W={vsize}:2,"
    path = os.path.join(cur, name)
    with open(path, "wb") as f:
        f.write(raw)
    os.chmod(path, 0o600)
    os.chown(path, *owner)
    os.utime(path, (mtime, mtime))
    return vsize


def finish(out, owner):
    for d in ("", "cur", "new", "tmp"):
        os.chown(os.path.join(out, d), *owner)
        os.chmod(os.path.join(out, d), 0o700)


def touch(out):
    """INTERNALDATE (the file's mtime) = now - n + i seconds, in UID order."""
    cur = os.path.join(out, "cur")
    names = sorted(os.listdir(cur), key=lambda s: (int(s.split(".", 1)[0]), s))
    now = int(time.time())
    for k, name in enumerate(names):
        t = now - len(names) + k
        os.utime(os.path.join(cur, name), (t, t))
    return len(names)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["complaints", "small", "big", "touch"])
    ap.add_argument("--n", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20261130)
    ap.add_argument("--size", type=int, default=40 * 1024 * 1024)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.mode == "touch":
        print(json.dumps({"touched": touch(args.out)}))
        return
    mail = pwd.getpwnam("mail")
    owner = (mail.pw_uid, mail.pw_gid)
    cur = maildir(args.out)
    t0 = time.time()
    now = int(t0)
    stats = {"messages": 0, "wire_bytes": 0, "file_bytes": 0, "plain": 0, "html": 0, "alternative": 0,
             "with_attachment": 0, "attachment_bytes": 0, "replies": 0, "seed": args.seed}
    if args.mode == "big":
        corpus = Corpus(1, args.seed)
        raw, _ = corpus.message(0, small=True)
        head, _, body = raw.partition(b"\nContent-Type")
        data, decoded = b64_random(f"{args.seed}/big", args.size)
        b = "000000000000bigmix"
        raw = (head.decode() + f'\nContent-Type: multipart/mixed; boundary="{b}"\n\n--{b}\n'
               "Content-Type: text/plain; charset=UTF-8\n\nTerlampir rekaman video kejadian banjir.\n\n"
               f'--{b}\nContent-Type: video/mp4; name="rekaman_banjir.mp4"\n'
               'Content-Disposition: attachment; filename="rekaman_banjir.mp4"\n'
               f"Content-Transfer-Encoding: base64\n\n{data}--{b}--\n").encode()
        stats["wire_bytes"] = write(cur, 0, args.seed, raw, now, owner)
        stats.update(messages=1, file_bytes=len(raw), with_attachment=1, attachment_bytes=decoded)
    else:
        corpus = Corpus(args.n, args.seed)
        for i in range(args.n):
            raw, info = corpus.message(i, small=args.mode == "small")
            stats["wire_bytes"] += write(cur, i, args.seed, raw, now - args.n + i, owner)
            stats["file_bytes"] += len(raw)
            stats["messages"] += 1
            stats[info["kind"]] += 1
            stats["with_attachment"] += info["attachment"]
            stats["attachment_bytes"] += info["attachment_bytes"]
            stats["replies"] += info["reply"]
    finish(args.out, owner)
    stats["seconds"] = round(time.time() - t0, 2)
    print(json.dumps(stats))


if __name__ == "__main__":
    sys.exit(main())
