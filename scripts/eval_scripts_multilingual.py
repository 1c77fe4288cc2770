"""Synthetic evaluation scripts for highlight mining on multilingual podcasts.

Six episodes of the fictional two-person podcast "Kopi Bisnis" about small
businesses in Indonesia. Three episodes are entirely in Indonesian ("id01",
"id02", "id03") and three are code-switched English/Indonesian ("mix01",
"mix02", "mix03"). Each episode has exactly three planted, clip-worthy guest
turns separated by low-stakes filler talk.

Each episode is a dict with keys "episode", "topic", "held_out", "language"
and "turns". Each turn is a tuple (speaker, language, planted, sentences),
where speaker is "host" or "guest", language is "id" or "en", planted is a
bool and sentences is a tuple of strings.
"""

from __future__ import annotations

EPISODES = (
    {
        "episode": "id01",
        "topic": "Jualan sambal rumahan di marketplace",
        "held_out": False,
        "language": "id",
        "turns": (
            ("host", "id", False, (
                "Halo semuanya, selamat datang lagi di Kopi Bisnis.",
                "Hari ini aku ditemani tamu yang seru banget.",
                "Mbak Sari, apa kabar nih?",
            )),
            ("guest", "id", False, (
                "Halo, kabar baik kok, makasih udah diundang ya.",
                "Tadi jalanan macet parah, jadi agak telat dikit.",
            )),
            ("host", "id", False, (
                "Iya, Jakarta sore-sore memang gitu sih.",
                "Santai aja, kita juga baru siap-siap kok.",
            )),
            ("guest", "id", False, (
                "Oh gitu ya, syukurlah kalau begitu.",
                "Ruangannya adem juga ya, enak buat ngobrol.",
            )),
            ("host", "id", False, (
                "Nah, coba ceritain dong, awalnya jualan online gimana?",
            )),
            ("guest", "id", True, (
                "Jujur ya, awalnya saya jualan sambal cuma buat nambah uang dapur.",
                "Tiga tahun lalu omzet saya cuma dua juta sebulan, itu pun kebanyakan dari tetangga.",
                "Terus saya buka toko di marketplace dan fokus total ke foto produk.",
                "Saya beli lampu murah, kain putih, dan belajar motret pakai HP setiap malam.",
                "Delapan bulan kemudian omzetnya naik jadi empat puluh juta sebulan.",
                "Orang beli dari foto dulu, baru dari rasa.",
            )),
            ("host", "id", False, (
                "Wah, keren juga ya ceritanya.",
                "Eh, aku jadi laper nih denger kata sambal.",
            )),
            ("guest", "id", False, (
                "Haha, iya, maaf ya bikin laper.",
                "Nanti aku bawain deh kapan-kapan.",
            )),
            ("host", "id", False, (
                "Beneran ya, aku tagih lho nanti.",
                "Terus, gimana rasanya ngurus toko online tiap hari?",
            )),
            ("guest", "id", False, (
                "Ya gitu deh, kadang capek, kadang seru juga.",
                "Kayak naik turun aja sih rasanya.",
            )),
            ("host", "id", False, (
                "Oh gitu, ya namanya juga usaha ya.",
                "Nah, soal ulasan pembeli, itu gimana ngadepinnya?",
            )),
            ("guest", "id", True, (
                "Yang paling penting adalah balas setiap ulasan jelek dalam satu jam.",
                "Dulu ada pembeli kasih bintang satu karena botolnya bocor di jalan.",
                "Saya telepon dia, minta maaf, dan kirim ulang dua botol gratis.",
                "Besoknya dia ubah ulasannya jadi bintang lima dan pesan lagi sepuluh botol.",
                "Sekarang tiga puluh persen pembeli saya datang dari rekomendasi pelanggan yang pernah komplain.",
                "Komplain itu bukan musibah, itu kesempatan.",
            )),
            ("host", "id", False, (
                "Hmm, menarik banget sih itu.",
                "Aku kira orang biasanya malah kesel ya.",
            )),
            ("guest", "id", False, (
                "Iya, awalnya aku juga kesel kok.",
                "Tapi ya udah, dijalanin aja pelan-pelan.",
            )),
            ("host", "id", False, (
                "Betul juga sih, pelan-pelan aja.",
                "Eh, ngomong-ngomong, kamu ngerjain sendiri atau ada tim?",
            )),
            ("guest", "id", False, (
                "Sekarang ada yang bantuin packing sih.",
                "Kebanyakan anak-anak muda sekitar rumah gitu.",
            )),
            ("host", "id", False, (
                "Oh, seru juga ya suasananya.",
                "Terus soal harga, kamu pernah ikut perang diskon nggak?",
            )),
            ("guest", "id", True, (
                "Intinya begini: jangan pernah ikut perang harga di marketplace.",
                "Tahun lalu saya sempat turunkan harga dari tiga puluh lima ribu jadi dua puluh lima ribu.",
                "Penjualan memang naik dua kali lipat, tapi untungnya malah habis buat ongkos dan iklan.",
                "Dalam tiga bulan saya hampir tutup toko.",
                "Begitu harga saya naikkan lagi dan kemasannya saya bikin lebih cantik, pembeli justru makin banyak.",
                "Murah itu gampang ditiru, kualitas nggak.",
            )),
            ("host", "id", False, (
                "Wah, mantap banget, makasih banyak ya Mbak Sari.",
                "Seru banget ngobrol sore ini.",
            )),
            ("guest", "id", False, (
                "Sama-sama, makasih juga udah ngundang aku.",
                "Semoga pulangnya nggak macet ya.",
            )),
            ("host", "id", False, (
                "Amin, semoga ya, hehe.",
                "Sampai jumpa lagi di episode berikutnya, dadah semuanya!",
            )),
        ),
    },
    {
        "episode": "id02",
        "topic": "Membuka kedai kopi kecil dekat kampus",
        "held_out": False,
        "language": "id",
        "turns": (
            ("host", "id", False, (
                "Halo halo, balik lagi di Kopi Bisnis bareng aku.",
                "Hari ini pas banget nih, kita ngobrolin kopi beneran.",
                "Udah ada Mas Dimas di sebelahku, halo Mas!",
            )),
            ("guest", "id", False, (
                "Halo, halo, seneng banget bisa ke sini.",
                "Tadi hujan deras banget di jalan, untung nggak kebanjiran.",
            )),
            ("host", "id", False, (
                "Iya, dari siang mendung terus ya.",
                "Mau minum dulu nggak, Mas, biar santai?",
            )),
            ("guest", "id", False, (
                "Boleh, boleh, makasih ya.",
                "Eh, ini kopinya enak juga lho.",
            )),
            ("host", "id", False, (
                "Haha, jangan dinilai ya, ini kopi sachet kok.",
                "Oke, langsung aja, gimana awalnya buka kedai kopi?",
            )),
            ("guest", "id", True, (
                "Jujur ya, kedai pertama saya itu gagal total.",
                "Saya sewa tempat di pinggir jalan besar seharga delapan puluh juta setahun.",
                "Enam bulan buka, yang datang paling cuma sepuluh orang sehari.",
                "Kedai kedua saya buka di gang sempit dekat kampus, sewanya cuma lima belas juta.",
                "Sekarang sehari kami bisa jual tiga ratus gelas.",
                "Lokasi mahal nggak ada artinya kalau pelanggannya bukan di situ.",
            )),
            ("host", "id", False, (
                "Waduh, sakit juga ya pengalaman itu.",
                "Tapi seru sih dengernya, Mas.",
            )),
            ("guest", "id", False, (
                "Iya, sekarang sih bisa ketawa aja.",
                "Dulu mah pusing banget rasanya, haha.",
            )),
            ("host", "id", False, (
                "Namanya juga belajar ya, Mas.",
                "Eh, kedainya namanya apa sih?",
            )),
            ("guest", "id", False, (
                "Namanya Kedai Teduh, biar kesannya adem gitu.",
                "Soalnya dulu pengen tempat nongkrong yang santai.",
            )),
            ("host", "id", False, (
                "Oh gitu, lucu juga namanya.",
                "Terus, soal menu, kamu bikin banyak pilihan nggak?",
            )),
            ("guest", "id", True, (
                "Rahasianya sederhana: menu sedikit, tapi semuanya enak.",
                "Awalnya menu saya ada dua puluh lima macam minuman.",
                "Bahan banyak yang kebuang, dan barista saya sering salah bikin pesanan.",
                "Saya potong jadi tujuh menu saja, dengan satu andalan, es kopi susu gula aren.",
                "Biaya bahan turun hampir empat puluh persen dalam dua bulan.",
                "Pelanggan nggak butuh banyak pilihan, mereka butuh alasan untuk balik lagi.",
            )),
            ("host", "id", False, (
                "Hmm, masuk akal juga ya.",
                "Aku sendiri suka bingung kalau menunya kebanyakan.",
            )),
            ("guest", "id", False, (
                "Nah, kan, banyak yang gitu kok.",
                "Kadang malah lama banget milihnya.",
            )),
            ("host", "id", False, (
                "Betul, betul, aku banget itu.",
                "Eh, terus gimana sama kopi susu kekinian yang lagi rame?",
            )),
            ("guest", "id", False, (
                "Ya, lagi rame banget sih emang.",
                "Di deket kedai aku juga banyak yang baru buka.",
            )),
            ("host", "id", False, (
                "Wah, saingannya makin banyak dong ya.",
                "Gimana cara kamu bertahan di tengah saingan begitu?",
            )),
            ("guest", "id", True, (
                "Yang paling penting adalah hafal nama pelanggan.",
                "Barista saya wajib ingat nama dan pesanan minimal lima puluh pelanggan tetap.",
                "Waktu ada kedai waralaba besar buka persis di seberang, omzet kami cuma turun sepuluh persen selama sebulan.",
                "Setelah itu malah balik naik, karena orang merasa dikenal di tempat kami.",
                "Mesin kopi bisa dibeli siapa saja, tapi hubungan nggak bisa dibeli.",
            )),
            ("host", "id", False, (
                "Wah, ini sih pelajaran bagus banget.",
                "Makasih banyak ya Mas Dimas udah mampir.",
            )),
            ("guest", "id", False, (
                "Sama-sama, makasih juga udah ngundang.",
                "Kapan-kapan main ke kedai ya.",
            )),
            ("host", "id", False, (
                "Siap, nanti aku mampir deh.",
                "Oke teman-teman, sampai jumpa lagi di episode depan!",
            )),
        ),
    },
    {
        "episode": "id03",
        "topic": "Mempekerjakan keluarga di usaha katering rumahan",
        "held_out": True,
        "language": "id",
        "turns": (
            ("host", "id", False, (
                "Selamat sore, teman-teman Kopi Bisnis di mana pun berada.",
                "Hari ini kita kedatangan tamu spesial dari Bekasi.",
                "Bu Lestari, selamat datang ya, Bu.",
            )),
            ("guest", "id", False, (
                "Makasih, makasih, senang bisa ikut ngobrol di sini.",
                "Maaf ya tadi agak telat, tol lagi padat.",
            )),
            ("host", "id", False, (
                "Aduh, nggak apa-apa, Bu, santai aja.",
                "Tol Bekasi memang suka bikin emosi ya.",
            )),
            ("guest", "id", False, (
                "Iya, betul banget, haha.",
                "Tapi sekarang udah adem, jadi tenang deh.",
            )),
            ("host", "id", False, (
                "Syukurlah kalau begitu, Bu.",
                "Oke, Ibu kan punya usaha katering, siapa aja yang bantu di dapur?",
            )),
            ("guest", "id", True, (
                "Jujur ya, dulu semua karyawan saya itu keluarga sendiri.",
                "Ada adik, dua keponakan, sama sepupu suami, total lima orang.",
                "Masalahnya, nggak ada yang berani saya tegur kalau salah, karena takut jadi omongan di arisan keluarga.",
                "Dalam setahun, kerugian dari pesanan telat dan bahan hilang hampir tiga puluh juta.",
                "Sekarang semua orang, keluarga atau bukan, tanda tangan kontrak kerja yang sama.",
                "Keluarga boleh kerja bareng, asal aturannya jelas dari awal.",
            )),
            ("host", "id", False, (
                "Wah, ini relate banget sama banyak orang sih.",
                "Pasti nggak enak ya waktu mulai bikin aturan.",
            )),
            ("guest", "id", False, (
                "Iya, awalnya canggung banget rasanya.",
                "Ada yang ngambek juga sih, biasa lah.",
            )),
            ("host", "id", False, (
                "Haha, namanya juga keluarga ya, Bu.",
                "Eh, menu andalan katering Ibu apa sih?",
            )),
            ("guest", "id", False, (
                "Kebanyakan nasi kotak sama tumpeng gitu.",
                "Paling sering buat acara kantor dan pengajian.",
            )),
            ("host", "id", False, (
                "Oh, enak banget tuh, aku suka tumpeng.",
                "Terus, soal gaji keluarga, itu gimana ngaturnya?",
            )),
            ("guest", "id", True, (
                "Intinya begini: gaji keluarga harus dibayar tepat waktu, sama seperti orang lain.",
                "Dulu saya sering telat bayar adik saya, karena pikir dia pasti ngerti.",
                "Ternyata dia diam-diam ambil uang kas tiga ratus ribu tiap minggu, katanya buat ganti gaji yang telat.",
                "Begitu saya bikin jadwal gajian tiap tanggal dua puluh lima, masalah itu berhenti sendiri.",
                "Kalau kita nggak profesional ke keluarga, jangan harap mereka profesional ke kita.",
            )),
            ("host", "id", False, (
                "Hmm, dalem juga ya, Bu.",
                "Aku jadi mikir-mikir sendiri nih.",
            )),
            ("guest", "id", False, (
                "Haha, iya, kadang memang nyentil gitu.",
                "Tapi ya itu, pengalaman aja sih.",
            )),
            ("host", "id", False, (
                "Iya, betul, semua orang pasti pernah ngalamin.",
                "Eh, Bu, anak-anak Ibu juga ikut bantu nggak?",
            )),
            ("guest", "id", False, (
                "Kadang-kadang ikut, kalau lagi libur sekolah.",
                "Biasanya bantu nempel stiker di kotak gitu.",
            )),
            ("host", "id", False, (
                "Lucu banget, pasti seru ya di dapur.",
                "Terus, kalau ada keluarga yang harus diberhentikan, gimana?",
            )),
            ("guest", "id", True, (
                "Yang paling susah itu memberhentikan keluarga sendiri.",
                "Tahun lalu saya harus lepas keponakan yang empat kali nggak datang pas ada pesanan lima ratus kotak.",
                "Saya ajak dia ngobrol berdua, bukan di depan keluarga, dan saya bantu dia cari kerja di tempat lain.",
                "Sekarang dia kerja di pabrik roti dan hubungan kami malah lebih baik.",
                "Pisahkan urusan dapur dengan urusan meja makan, itu kuncinya.",
            )),
            ("host", "id", False, (
                "Wah, makasih banyak ya Bu Lestari, ceritanya luar biasa.",
                "Aku belajar banyak banget hari ini.",
            )),
            ("guest", "id", False, (
                "Sama-sama, makasih udah diundang ya.",
                "Semoga bermanfaat buat yang dengerin.",
            )),
            ("host", "id", False, (
                "Pasti, Bu, hati-hati di jalan ya.",
                "Sampai ketemu lagi di Kopi Bisnis, dadah!",
            )),
        ),
    },
    {
        "episode": "mix01",
        "topic": "Freelance ilustrasi untuk klien luar negeri",
        "held_out": False,
        "language": "mix",
        "turns": (
            ("host", "en", False, (
                "Hey everybody, welcome back to Kopi Bisnis.",
                "Today we have a very special guest in the studio.",
                "Nadia, thanks for coming all the way here.",
            )),
            ("guest", "id", False, (
                "Halo, makasih banyak ya udah ngundang aku.",
                "Tadi sempat nyasar dikit sih, haha.",
            )),
            ("host", "en", False, (
                "No worries, this building is really confusing.",
                "Did you have trouble with the parking too?",
            )),
            ("guest", "id", False, (
                "Iya, parkirannya penuh banget tadi.",
                "Tapi akhirnya dapat juga kok.",
            )),
            ("host", "en", False, (
                "Okay, so let's get into it.",
                "How did you end up freelancing for clients abroad?",
            )),
            ("guest", "en", True, (
                "Here's the thing: I was charging local clients fifty thousand rupiah for a logo.",
                "Four years ago I made my first profile on an international freelancing site and set my rate at thirty dollars an hour.",
                "Within six months I had three regular clients in Australia and Canada.",
                "My monthly income jumped from three million rupiah to almost twenty five million.",
                "The skill was the same, only the market changed.",
            )),
            ("host", "id", False, (
                "Wah, gila sih itu, beda jauh banget ya.",
                "Aku sampai merinding dengernya.",
            )),
            ("guest", "en", False, (
                "Yeah, it still feels kind of strange, honestly.",
            )),
            ("host", "en", False, (
                "I can imagine, that must have been exciting.",
                "So what kind of work do you usually do?",
            )),
            ("guest", "id", False, (
                "Kebanyakan ilustrasi buat buku anak sama packaging sih.",
                "Kadang juga bikin konten buat brand kecil gitu.",
            )),
            ("host", "en", False, (
                "Oh nice, that sounds really fun.",
                "What about communication with clients overseas, how does that work?",
            )),
            ("guest", "id", True, (
                "Yang paling penting adalah balas email klien dalam waktu kurang dari dua jam.",
                "Dulu saya kehilangan klien besar dari Jerman cuma karena telat balas satu hari.",
                "Proyeknya senilai seribu lima ratus dolar, dan dia langsung pindah ke desainer lain.",
                "Sejak itu saya pasang notifikasi khusus dan bikin template jawaban.",
                "Klien luar negeri bukan cuma beli desain, mereka beli rasa aman.",
            )),
            ("host", "en", False, (
                "Wow, that's a painful way to learn.",
                "I'm guilty of slow replies myself, to be honest.",
            )),
            ("guest", "id", False, (
                "Haha, aku juga dulu gitu kok.",
                "Kadang HP ditaruh aja terus lupa.",
            )),
            ("host", "id", False, (
                "Iya, kayak gitu sering banget kejadian.",
                "Eh, kamu kerja dari rumah atau dari kafe?",
            )),
            ("guest", "id", False, (
                "Biasanya dari rumah, kadang ke kafe deket kos.",
                "Soalnya kalau di rumah suka ngantuk gitu.",
            )),
            ("host", "en", False, (
                "Same here, coffee shops just help me focus.",
                "Okay, now about pricing, do you ever negotiate with clients?",
            )),
            ("guest", "en", True, (
                "The biggest mistake I see is freelancers lowering their price the moment a client hesitates.",
                "Last year a client from London asked for a discount on a two thousand dollar project.",
                "Instead of cutting the price, I offered to remove one revision round.",
                "He accepted immediately, and he has sent me five more projects since then.",
                "Never discount your work, adjust the scope instead.",
            )),
            ("host", "en", False, (
                "That is such a good point, thank you Nadia.",
                "This was really fun.",
            )),
            ("guest", "id", False, (
                "Sama-sama, makasih juga ya, seru banget ngobrolnya.",
                "Semoga nggak kapok ngundang aku lagi.",
            )),
            ("host", "en", False, (
                "Definitely not, you're always welcome here.",
                "See you next time on Kopi Bisnis, bye everyone!",
            )),
        ),
    },
    {
        "episode": "mix02",
        "topic": "Membangun brand batik lewat social media",
        "held_out": False,
        "language": "mix",
        "turns": (
            ("host", "id", False, (
                "Halo semuanya, balik lagi di Kopi Bisnis.",
                "Hari ini kita mau ngobrolin soal social media.",
                "Udah ada Raka di sini, apa kabar, bro?",
            )),
            ("guest", "en", False, (
                "Hey, I'm good, thanks for having me.",
                "Sorry, I'm still a bit sleepy from the train.",
            )),
            ("host", "en", False, (
                "Oh, you came straight from Solo this morning?",
                "That's a long trip, man.",
            )),
            ("guest", "id", False, (
                "Iya, berangkat subuh tadi, lumayan capek sih.",
                "Tapi seneng kok bisa main ke Jakarta.",
            )),
            ("host", "en", False, (
                "Well, we really appreciate it.",
                "So tell us a bit about your batik brand.",
            )),
            ("guest", "id", True, (
                "Jujur ya, dua tahun pertama brand batik kami hampir nggak punya followers.",
                "Kami cuma posting foto produk di Instagram, dan penjualan online paling cuma lima kain sebulan.",
                "Terus adik saya iseng bikin video ibu-ibu pembatik di kampung lagi kerja sambil ngobrol.",
                "Videonya ditonton dua juta kali dalam seminggu, dan tiga ratus kain kami langsung habis.",
                "Orang nggak beli kain, mereka beli cerita di balik kain itu.",
            )),
            ("host", "en", False, (
                "That's incredible, I think I actually saw that video.",
                "It was all over my feed.",
            )),
            ("guest", "id", False, (
                "Wah, serius kamu pernah lihat videonya?",
                "Seneng banget dengernya, makasih ya.",
            )),
            ("host", "en", False, (
                "Yeah, my mom even shared it with me.",
                "She was asking where she could buy it.",
            )),
            ("guest", "en", False, (
                "Haha, that's so sweet of her.",
                "Tell her to message us anytime.",
            )),
            ("host", "id", False, (
                "Siap, nanti aku bilangin deh.",
                "Eh, terus gimana kalian nentuin content tiap minggu?",
            )),
            ("guest", "en", True, (
                "Here's the thing: we stopped trying to go viral.",
                "Now we post one short video every single day, no matter how many views it gets.",
                "Most of them get maybe two thousand views, which is nothing special.",
                "But after eight months, our follower count went from four thousand to one hundred and twenty thousand.",
                "Consistency beats going viral, every single time.",
            )),
            ("host", "id", False, (
                "Hmm, masuk akal sih, tapi pasti capek ya.",
                "Aku aja posting jarang-jarang udah ngos-ngosan.",
            )),
            ("guest", "id", False, (
                "Haha, iya, memang butuh tim sih.",
                "Sekarang ada yang bantu ngedit video.",
            )),
            ("host", "en", False, (
                "That makes sense, you can't do everything alone.",
                "Do you still film the videos yourself?",
            )),
            ("guest", "en", False, (
                "Sometimes, but mostly my sister does it now.",
                "She's much better with the camera than me.",
            )),
            ("host", "en", False, (
                "Okay, what about paid ads?",
                "Do you spend money on those?",
            )),
            ("guest", "id", True, (
                "Intinya begini: jangan bakar uang buat iklan sebelum content organik kalian jalan.",
                "Tahun lalu kami sempat keluarin lima belas juta buat iklan dalam sebulan.",
                "Hasilnya cuma dua puluh transaksi, jadi tiap pembeli biayanya tujuh ratus lima puluh ribu.",
                "Sekarang iklan cuma kami pakai buat video yang udah terbukti rame secara organik.",
                "Iklan itu cuma pengeras suara, bukan suaranya.",
            )),
            ("host", "en", False, (
                "Love that, what a great way to put it.",
                "Thank you so much for coming, Raka.",
            )),
            ("guest", "id", False, (
                "Sama-sama, makasih juga udah ngundang ya.",
                "Seru banget ngobrol di sini.",
            )),
            ("host", "id", False, (
                "Hati-hati pulangnya ke Solo ya.",
                "Sampai jumpa minggu depan di Kopi Bisnis, dadah!",
            )),
        ),
    },
    {
        "episode": "mix03",
        "topic": "Menentukan harga jual kue rumahan",
        "held_out": True,
        "language": "mix",
        "turns": (
            ("host", "en", False, (
                "Hi everyone, welcome to another episode of Kopi Bisnis.",
                "I'm really excited about today's conversation.",
                "Citra, welcome to the show!",
            )),
            ("guest", "id", False, (
                "Halo, makasih banyak, aku deg-degan nih.",
                "Baru kali ini ikut podcast soalnya.",
            )),
            ("host", "id", False, (
                "Santai aja, anggap aja lagi ngobrol biasa.",
                "Eh, itu kamu bawa apa di kotak?",
            )),
            ("guest", "en", False, (
                "Oh, I brought some brownies for you guys.",
            )),
            ("host", "en", False, (
                "No way, that's so kind of you.",
                "Okay, I'll try to focus and not just eat.",
            )),
            ("guest", "id", False, (
                "Haha, silakan dimakan aja, nggak apa-apa kok.",
            )),
            ("host", "en", False, (
                "So how did you decide on your prices when you started?",
            )),
            ("guest", "id", True, (
                "Jujur ya, dulu saya jual brownies di bawah modal tanpa sadar.",
                "Satu loyang saya jual enam puluh ribu, padahal bahan, gas, kemasan, dan ongkir udah lima puluh lima ribu.",
                "Tenaga saya sendiri nggak pernah saya hitung sama sekali.",
                "Setelah saya hitung ulang dengan benar, harganya saya naikkan jadi sembilan puluh lima ribu.",
                "Yang kabur cuma sedikit, dan untung bersih saya naik tiga kali lipat.",
                "Kalau tenaga kamu gratis, bisnismu sebenarnya cuma hobi mahal.",
            )),
            ("host", "en", False, (
                "Oof, that hits close to home.",
                "I think a lot of home bakers do exactly that.",
            )),
            ("guest", "id", False, (
                "Iya, banyak banget teman aku yang gitu.",
                "Soalnya nggak enak sama pembeli, katanya.",
            )),
            ("host", "id", False, (
                "Oh gitu ya, rasa nggak enakan ya.",
                "Orang kita memang gitu sih.",
            )),
            ("guest", "en", False, (
                "Exactly, we always feel bad asking for more.",
                "It's a cultural thing, I guess.",
            )),
            ("host", "en", False, (
                "So how did your customers react to the new price?",
            )),
            ("guest", "en", True, (
                "The biggest mistake I see is apologizing for your price.",
                "When I raised my price, I sent a message to my two hundred regular customers explaining the better chocolate I was now using.",
                "I didn't apologize once, I just told them what changed.",
                "Only about fifteen people stopped ordering, and forty new customers came in the next month.",
                "If you sound sorry about your price, people will think it's too high.",
            )),
            ("host", "id", False, (
                "Wah, berani juga ya kamu.",
                "Aku pasti udah keringat dingin duluan.",
            )),
            ("guest", "id", False, (
                "Haha, aku juga keringat dingin kok waktu itu.",
                "Cuma ya udah, pencet kirim aja.",
            )),
            ("host", "en", False, (
                "That's the spirit, just hit send.",
                "By the way, do you bake everything at home?",
            )),
            ("guest", "id", False, (
                "Iya, masih di dapur rumah kok.",
                "Oven-nya juga masih yang lama.",
            )),
            ("host", "en", False, (
                "Okay, let me ask you this.",
                "What about discounts, do you ever do promos?",
            )),
            ("guest", "id", True, (
                "Rahasianya sederhana: jangan kasih diskon, kasih bonus.",
                "Dulu tiap Lebaran saya diskon dua puluh persen, dan margin saya habis dimakan.",
                "Tahun ini saya ganti jadi gratis satu toples kue kering kecil untuk setiap pembelian tiga loyang.",
                "Biaya bonusnya cuma delapan ribu, tapi pembeli merasa dapat hadiah, bukan barang murahan.",
                "Penjualan Lebaran saya naik hampir dua kali lipat.",
                "Diskon bikin brand kamu kelihatan murah, bonus bikin pembeli merasa spesial.",
            )),
            ("host", "en", False, (
                "That's a brilliant tip, thank you so much, Citra.",
                "And thanks for the brownies too!",
            )),
            ("guest", "id", False, (
                "Sama-sama, makasih udah ngundang aku ya.",
                "Seru banget ternyata ikut podcast.",
            )),
            ("host", "en", False, (
                "Come back anytime, seriously.",
                "Bye everyone, see you next week on Kopi Bisnis!",
            )),
        ),
    },
)
