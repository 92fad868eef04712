//! The mailer against a real SMTP server (aiosmtpd, `windledger_mail::testing`):
//! French mails sent and read back, the content hash, a bad address among
//! good ones, a server that is not there, and a batch of many.

use std::time::{Duration, Instant};

use windledger_mail::testing::SmtpSink;
use windledger_mail::{Mail, Mailer, Outcome, SmtpSettings};

const FROM: &str = "Les Ailes de Taillard <gerance@ailes-de-taillard.example>";

fn mail(name: &str, address: &str, subject: &str, text: &str) -> Mail {
    Mail {
        to_name: name.into(),
        to_address: address.into(),
        subject: subject.into(),
        text: text.into(),
        reply_to: None,
    }
}

fn mailer(url: &str) -> Mailer {
    Mailer::new(&SmtpSettings::parse(url, FROM).expect("valid settings"))
}

#[tokio::test]
async fn french_mails_arrive_as_written() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let mails = vec![
        Mail {
            reply_to: Some("Gérance <gerance@ailes-de-taillard.example>".into()),
            ..mail(
                "Anne-Cécile Dupré",
                "anne@exemple.fr",
                "Convocation à l'assemblée générale ordinaire du 12 juin",
                "Chère associée,\n\nVous êtes convoquée à l'assemblée générale ordinaire \
                 le jeudi 12 juin à 18 h, salle des fêtes de Taillard.\n\nÀ bientôt,\n\
                 la gérance\n",
            )
        },
        mail(
            "Éloïse Lefèvre",
            "eloise@exemple.fr",
            "Votre relevé de parts — exercice 2025",
            "Bonjour,\r\nvoici votre relevé : 12 parts, soit 1 200 €.\r\nCordialement",
        ),
        mail(
            "Noël Garçon",
            "noel@exemple.fr",
            "Résultat du vote : résolution n° 3 adoptée",
            &format!("Résolution adoptée à l'unanimité.\n{}\n", "ça ".repeat(60)),
        ),
    ];
    let mut progress = Vec::new();
    let outcomes = mailer(&sink.url())
        .send_all(&mails, |done, total| progress.push((done, total)))
        .await;
    assert_eq!(progress, vec![(1, 3), (2, 3), (3, 3)]);
    for (mail, outcome) in mails.iter().zip(&outcomes) {
        assert_eq!(
            outcome,
            &Outcome::Sent {
                sha256: mail.content_sha256()
            }
        );
    }

    let received = sink.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 3);
    // `messages` sorts by recipient: anne, eloise, noel, as `mails`.
    for (mail, got) in mails.iter().zip(&received) {
        assert_eq!(got.envelope_to, vec![mail.to_address.clone()]);
        assert_eq!(got.envelope_from, "gerance@ailes-de-taillard.example");
        assert_eq!(got.from, FROM);
        assert_eq!(got.to, format!("{} <{}>", mail.to_name, mail.to_address));
        assert_eq!(got.subject, mail.subject);
        assert_eq!(got.text, mail.canonical_text());
        // The hash can be checked from what the recipient has.
        let as_received = Mail {
            to_address: got.envelope_to[0].clone(),
            subject: got.subject.clone(),
            text: got.text.clone(),
            ..mail.clone()
        };
        assert_eq!(as_received.content_sha256(), mail.content_sha256());
        let raw = String::from_utf8_lossy(&got.raw);
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(
            raw.contains("@ailes-de-taillard.example>\r\n")
                || raw.contains("@ailes-de-taillard.example>\n")
        );
        assert!(raw.contains("\nDate: "), "{raw}");
        assert!(raw.contains("\nMessage-ID: <"), "{raw}");
    }
    assert_eq!(
        received[0].reply_to.as_deref(),
        Some("Gérance <gerance@ailes-de-taillard.example>")
    );
    assert_eq!(received[1].reply_to, None);
}

#[test]
fn the_content_hash_is_stable_and_covers_the_text() {
    let a = mail(
        "Anne",
        "anne@exemple.fr",
        "Convocation",
        "Bonjour,\nà jeudi.\n",
    );
    assert_eq!(a.content_sha256(), a.clone().content_sha256());
    // Neither the name nor the reply-to are part of it; CRLF counts as LF,
    // and the last line's end is there whether given or not.
    for same in ["Bonjour,\r\nà jeudi.\r\n", "Bonjour,\nà jeudi."] {
        let renamed = Mail {
            to_name: "Anne D.".into(),
            reply_to: Some("g@exemple.fr".into()),
            text: same.into(),
            ..a.clone()
        };
        assert_eq!(renamed.content_sha256(), a.content_sha256());
    }
    for changed in [
        Mail {
            text: "Bonjour,\nà vendredi.\n".into(),
            ..a.clone()
        },
        Mail {
            text: "Bonjour,\nà jeudi.\n\n".into(),
            ..a.clone()
        },
        Mail {
            subject: "Convocation ".into(),
            ..a.clone()
        },
        Mail {
            to_address: "annie@exemple.fr".into(),
            ..a.clone()
        },
    ] {
        assert_ne!(changed.content_sha256(), a.content_sha256(), "{changed:?}");
    }
}

#[tokio::test]
async fn an_invalid_address_fails_that_mail_only() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let mails = vec![
        mail("Anne", "anne@exemple.fr", "Un", "un"),
        mail("Bernard", "bernard chez exemple.fr", "Deux", "deux"),
        mail("Chloé", "chloe@exemple.fr", "Trois", "trois"),
        Mail {
            reply_to: Some("pas une adresse".into()),
            ..mail("Denis", "denis@exemple.fr", "Quatre", "quatre")
        },
        // A header cannot be slipped in (and lettre, which would panic on
        // it, never sees it).
        mail(
            "Eve",
            "eve@exemple.fr",
            "Cinq\r\nBcc: mallory@exemple.fr",
            "cinq",
        ),
    ];
    let outcomes = mailer(&sink.url()).send_all(&mails, |_, _| {}).await;
    assert!(outcomes[0].is_sent(), "{outcomes:?}");
    assert!(outcomes[2].is_sent(), "{outcomes:?}");
    let Outcome::Failed { reason } = &outcomes[1] else {
        panic!("{outcomes:?}")
    };
    assert!(reason.contains("bernard chez exemple.fr"), "{reason}");
    let Outcome::Failed { reason } = &outcomes[3] else {
        panic!("{outcomes:?}")
    };
    assert!(reason.contains("reply-to"), "{reason}");
    let Outcome::Failed { reason } = &outcomes[4] else {
        panic!("{outcomes:?}")
    };
    assert!(reason.contains("line break"), "{reason}");
    let received = sink.wait_for(2, Duration::from_secs(10)).await;
    let recipients: Vec<_> = received.iter().map(|m| m.envelope_to.clone()).collect();
    assert_eq!(
        recipients,
        vec![
            vec!["anne@exemple.fr".to_string()],
            vec!["chloe@exemple.fr".to_string()]
        ]
    );
}

#[tokio::test]
async fn an_unreachable_server_fails_every_mail_without_hanging() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mails: Vec<Mail> = (0..50)
        .map(|i| mail("X", &format!("x{i}@exemple.fr"), "Objet", "texte"))
        .collect();
    let mailer = mailer(&format!("smtp://127.0.0.1:{port}"));
    // Sent from a spawned task, as a web handler's would be: the future
    // must be `Send` for any lifetime.
    let sending = tokio::spawn(async move {
        let mut calls = 0;
        let outcomes = mailer.send_all(&mails, |_, _| calls += 1).await;
        (outcomes, calls)
    });
    let (outcomes, calls) = tokio::time::timeout(Duration::from_secs(30), sending)
        .await
        .expect("no hanging")
        .expect("no panic");
    assert_eq!((outcomes.len(), calls), (50, 50));
    for outcome in &outcomes {
        let Outcome::Failed { reason } = outcome else {
            panic!("{outcome:?}")
        };
        assert!(reason.contains("Connection refused"), "{reason}");
    }
}

#[tokio::test]
async fn a_silent_server_times_out_once_for_the_batch() {
    // A socket that takes connections (the kernel's backlog) but never
    // greets: each of the first connections waits for `TIMEOUT`, then the
    // rest are not tried.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("its address").port();
    let mails: Vec<Mail> = (0..20)
        .map(|i| mail("X", &format!("x{i}@exemple.fr"), "Objet", "texte"))
        .collect();
    let started = Instant::now();
    let outcomes = mailer(&format!("smtp://127.0.0.1:{port}"))
        .send_all(&mails, |_, _| {})
        .await;
    let elapsed = started.elapsed();
    assert!(elapsed < windledger_mail::TIMEOUT * 2, "took {elapsed:?}");
    let reasons: Vec<String> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Outcome::Failed { reason } => reason.clone(),
            Outcome::Sent { .. } => panic!("{outcome:?}"),
        })
        .collect();
    assert!(reasons[0].contains("within 10 s"), "{reasons:?}");
    assert!(reasons[19].starts_with("not tried"), "{reasons:?}");
    drop(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_batch_takes_seconds() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let n = 2_000;
    let mails: Vec<Mail> = (0..n)
        .map(|i| {
            mail(
                &format!("Associé n° {i}"),
                &format!("associe{i:05}@exemple.fr"),
                &format!("Convocation n° {i}"),
                "Vous êtes convoqué·e à l'assemblée générale.\n",
            )
        })
        .collect();
    let started = Instant::now();
    let mut last = (0, 0);
    let outcomes = mailer(&sink.url())
        .send_all(&mails, |done, total| last = (done, total))
        .await;
    let elapsed = started.elapsed();
    assert_eq!(last, (n, n));
    assert!(outcomes.iter().all(Outcome::is_sent), "{outcomes:?}");
    let received = sink.wait_for(n, Duration::from_secs(10)).await;
    assert_eq!(received.len(), n);
    assert_eq!(received[0].envelope_to, vec!["associe00000@exemple.fr"]);
    eprintln!("{n} mails sent in {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(60),
        "{n} mails took {elapsed:?}"
    );
}
