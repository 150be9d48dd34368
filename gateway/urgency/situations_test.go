package urgency

import "testing"

// situations are the classes of danger the second corpus showed the lists
// missed, each said anew in the eight languages (not in the corpus's
// words): being moved now, pursuit after an escape, minors exploited, a
// client in the room, a guarded door, chains, threats to the family, care
// refused; and what is not danger now: confinement denied, past, over.
// They were written without running them first; at first contact the first
// twelve gave 89 of 96 messages right, the six after them (written once the
// first were fixed) 90 of 112. The lists were widened in general ways after
// each, so these too are no longer a blind measure.
var situations = []struct {
	name string
	now  bool
	text map[string]string
}{
	{"moved across the border", true, map[string]string{
		"en":      "they put 10 of us in a truck, going over the border tonight",
		"es":      "nos metieron a 10 en un camion, dicen q cruzamos la frontera esta noche",
		"ms":      "dorg masukkan 10 org dlm lori, kata nk lintas sempadan mlm ni",
		"id":      "kami 10 orang dimasukin ke truk, katanya nyebrang perbatasan malam ini",
		"zh-Hans": "他们把我们十个人塞进货车 说今晚过境",
		"th":      "เขาเอาพวกเรา 10 คนขึ้นท้ายรถ บอกว่าคืนนี้จะข้ามแดน",
		"vi":      "ho nhet 10 nguoi bon em len xe tai, noi toi nay vuot bien",
		"fil":     "sinakay kami sa truck, 10 kami, itatawid daw kami sa border mamayang gabi",
	}},
	{"pursued after an escape", true, map[string]string{
		"en":      "i ran from the farm and im hiding in a shop, the boss and his men are looking for me",
		"es":      "me escape de la finca, estoy escondida en una tienda, el patron y sus hombres me andan buscando",
		"ms":      "sy lari dr ladang, tgh menyorok dlm kedai, bos dgn orang dia cari sy",
		"id":      "aku kabur dari kebun, lagi ngumpet di warung, bos sm anak buahnya nyariin aku",
		"zh-Hans": "我从农场逃出来了 躲在一个小店里 老板带人到处找我",
		"th":      "หนูหนีออกมาจากไร่ หลบอยู่ในร้านค้า เถ้าแก่กับลูกน้องกำลังตามหาตัวหนู",
		"vi":      "em tron khoi trang trai, dang nup trong 1 cua hang, chu voi dan em cua no dang tim em",
		"fil":     "tumakas ako sa farm, nagtatago ako sa tindahan, hinahanap ako ng amo at mga tauhan nya",
	}},
	{"a minor made to sit with customers", true, map[string]string{
		"en":      "my cousin is only 14 and they make her sit with customers at the bar",
		"es":      "mi prima tiene 14 años y la obligan a sentarse con clientes en el bar",
		"ms":      "sepupu sy baru 14 thn, dorg paksa dia layan pelanggan kt bar",
		"id":      "sepupu aku baru 14 thn, dipaksa nemenin tamu di bar",
		"zh-Hans": "我表妹才14岁 他们逼她在酒吧陪酒",
		"th":      "ลูกพี่ลูกน้องหนูอายุแค่ 14 โดนบังคับให้นั่งดริ้งกับแขกที่บาร์",
		"vi":      "em ho cua toi moi 14 tuoi, bi ep ngoi voi khach o quan bar",
		"fil":     "pinsan ko 14 anyos lang, pinipilit syang samahan ang mga customer sa bar",
	}},
	{"a client in the room, documents held", true, map[string]string{
		"en":      "there is a customer in my room right now, the pimp keeps my passport",
		"es":      "hay un cliente en mi cuarto ahorita, el padrote tiene mi pasaporte",
		"ms":      "ada pelanggan dlm bilik sy skrg, bapa ayam simpan pasport sy",
		"id":      "ada tamu di kamar aku skrg, germo nahan paspor aku",
		"zh-Hans": "现在有个客人在我房间里 鸡头扣着我的护照",
		"th":      "ตอนนี้มีแขกอยู่ในห้อง แม่เล้ายึดพาสปอร์ตหนูไว้",
		"vi":      "bay gio co khach trong phong em, ma mi giu ho chieu cua em",
		"fil":     "may customer sa kwarto ko ngayon, hawak ng bugaw ang passport ko",
	}},
	{"a guard at the door, no pay", true, map[string]string{
		"en":      "there are guards at the gate day and night and they dont pay us",
		"es":      "hay guardias en la puerta dia y noche y no nos pagan",
		"ms":      "ada pengawal jaga pintu siang malam, gaji tak bayar",
		"id":      "ada satpam jagain pintu siang malam, gaji gak dibayar",
		"zh-Hans": "门口有保安日夜守着 也不给工资",
		"th":      "มีการ์ดยืนเฝ้าประตูทั้งวันทั้งคืน ไม่จ่ายค่าแรงด้วย",
		"vi":      "co bao ve canh cong ca ngay lan dem, khong tra luong",
		"fil":     "may bantay sa gate araw at gabi, walang sahod",
	}},
	{"chained after trying to run", true, map[string]string{
		"en":      "they chained my friend to the bed because he tried to run",
		"es":      "encadenaron a mi amigo a la cama porque intento escapar",
		"ms":      "kawan sy kena rantai kt katil sbb cuba lari",
		"id":      "temen aku dirantai di kasur gara2 coba kabur",
		"zh-Hans": "我朋友想跑 被他们用铁链锁在床上",
		"th":      "เพื่อนผมโดนล่ามโซ่ไว้กับเตียงเพราะพยายามหนี",
		"vi":      "ban toi bi xich vao giuong vi dinh tron",
		"fil":     "kinadena nila kaibigan ko sa kama kasi sinubukan tumakas",
	}},
	{"a threat to the family, still there", true, map[string]string{
		"en":      "the boss threatened my mother back home if i leave. i am still here at the factory",
		"es":      "el jefe amenazo a mi familia si me voy. sigo aqui en la fabrica",
		"ms":      "bos ugut keluarga sy kt kampung kalau sy lari. sy masih kat kilang ni",
		"id":      "bos ngancem keluarga aku di kampung kalo aku kabur. aku masih di pabrik",
		"zh-Hans": "老板威胁我家人 说我敢走就找他们麻烦 我还在这个工厂",
		"th":      "นายจ้างขู่ว่าจะทำร้ายครอบครัวที่บ้านถ้าผมหนี ตอนนี้ยังอยู่ที่โรงงาน",
		"vi":      "chu doa gia dinh em o que neu em bo tron, em van dang o xuong",
		"fil":     "binantaan ng amo pamilya ko sa probinsya pag umalis ako, nandito pa rin ako sa pabrika",
	}},
	{"care refused while held", true, map[string]string{
		"en":      "my friend has a high fever for days and the boss wont let her go to the hospital",
		"es":      "mi amiga tiene fiebre alta hace dias y el jefe no la deja ir al hospital",
		"ms":      "kawan sy demam panas dah bbrp hari, bos tak bagi dia pergi hospital",
		"id":      "temen aku demam tinggi udah bbrp hari, bos gak ngasih dia ke rumah sakit. gak boleh ke dokter",
		"zh-Hans": "我朋友发高烧好几天了 老板不让她去医院",
		"th":      "เพื่อนหนูไข้ขึ้นสูงหลายวันแล้ว นายจ้างไม่ให้ไปโรงพยาบาล",
		"vi":      "ban em sot cao may ngay roi, chu khong cho di benh vien",
		"fil":     "kaibigan ko mataas lagnat ilang araw na, ayaw siyang dalhin ng amo sa ospital",
	}},
	{"confinement denied", false, map[string]string{
		"en":      "my boss shouts a lot but im not locked in or anything, can i change jobs?",
		"es":      "mi jefe grita mucho pero no estoy encerrada ni nada, puedo cambiar de trabajo?",
		"ms":      "bos sy selalu marah2 tapi sy tak dikurung pun, boleh tukar kerja?",
		"id":      "bos aku suka marah2 tapi aku gak dikurung kok, bisa pindah kerja?",
		"zh-Hans": "老板经常骂人 但我没有被关 可以换工作吗",
		"th":      "นายจ้างด่าบ่อย แต่หนูไม่ได้ถูกขังนะ เปลี่ยนงานได้ไหม",
		"vi":      "chu hay chui nhung em khong bi nhot, em doi viec duoc ko",
		"fil":     "lagi akong sinisigawan ng amo pero hindi naman ako nakakulong, pwede ba lumipat ng trabaho?",
	}},
	{"past and now home", false, map[string]string{
		"en":      "3 years ago i was held on a fishing boat, now im home with my family, can i still report it",
		"es":      "hace 3 años me tuvieron encerrado en un barco, ya estoy en casa con mi familia, todavia puedo denunciar?",
		"ms":      "3 tahun lepas sy dikurung atas bot, skrg dah balik rumah dgn family, boleh report lagi?",
		"id":      "3 tahun lalu aku disekap di kapal, skrg udah pulang sama keluarga, masih bisa lapor?",
		"zh-Hans": "三年前我被关在渔船上 现在已经回家了 还能举报吗",
		"th":      "3 ปีก่อนผมถูกขังบนเรือประมง ตอนนี้กลับบ้านแล้ว ยังแจ้งความได้ไหม",
		"vi":      "3 nam truoc toi bi nhot tren tau ca, gio ve nha roi, con to cao duoc ko",
		"fil":     "3 taon na ang nakalipas nakakulong ako sa barko, nakauwi na ako, pwede pa ba ireport",
	}},
	{"quit months ago", false, map[string]string{
		"en":      "my sister worked in a house where they didnt let her out, but she left months ago",
		"es":      "mi hermana trabajaba en una casa donde no la dejaban salir, pero se fue hace meses",
		"ms":      "kakak sy kerja kt rumah yg tak bagi dia keluar, tp dia dah berhenti bbrp bulan lepas",
		"id":      "kakak aku kerja di rumah yg gak ngebolehin dia keluar, tp dia udah berhenti bbrp bulan lalu",
		"zh-Hans": "我姐以前在一户人家干活 不让她出门 不过几个月前已经辞职了",
		"th":      "พี่สาวเคยทำงานบ้านที่ไม่ให้ออกไปไหน แต่ลาออกมาหลายเดือนก่อนแล้ว",
		"vi":      "chi em tung lam o mot nha khong cho ra ngoai, nhung da nghi may thang truoc roi",
		"fil":     "yung ate ko nagtrabaho sa bahay na hindi sya pinapalabas, pero umalis na sya ilang buwan na ang nakalipas",
	}},
	{"in a container now, destination unknown", true, map[string]string{
		"en":      "we r inside a container rn, about 20 ppl, dunno where theyre going",
		"es":      "stamos dentro de un contenedor ahorita, como 20, no sabemos a donde vamos",
		"ms":      "kami dlm kontena skrg, dlm 20 org, x tau nk pi mana",
		"id":      "kita di dalam kontainer skrg, sktr 20 org, gak tau mau dibawa kemana",
		"zh-Hans": "我们现在在集装箱里 大概20个人 不知道要去哪",
		"th":      "ตอนนี้อยู่ในตู้คอนเทนเนอร์ ประมาณ 20 คน ไม่รู้จะพาไปไหน",
		"vi":      "bon em dang o trong container, khoang 20 nguoi, ko biet di dau",
		"fil":     "nasa loob kami ng container ngayon, mga 20 kami, di namin alam san kami dadalhin",
	}},
	{"sold to another boss tonight", true, map[string]string{
		"en":      "the agent is selling me to another boss tonight, i have no passport",
		"es":      "el agente me va a vender a otro patron esta noche, no tengo pasaporte",
		"ms":      "agen nk jual sy kt bos lain mlm ni, pasport x de",
		"id":      "agen mau jual aku ke bos lain malam ini, paspor gak ada",
		"zh-Hans": "中介今晚要把我转卖给别的老板 护照也没有",
		"th":      "นายหน้าจะขายต่อหนูให้เถ้าแก่คนอื่นคืนนี้ ไม่มีพาสปอร์ต",
		"vi":      "moi gioi toi nay ban em cho chu khac, em ko co ho chieu",
		"fil":     "ibebenta ako ng agent sa ibang amo mamayang gabi, wala akong passport",
	}},
	{"children on a webcam now", true, map[string]string{
		"en":      "my neighbour puts his 2 nieces (8 and 10 yo) on webcam shows, doing it again tonight",
		"es":      "mi vecino pone a sus 2 sobrinas de 8 y 10 años en camara web, lo esta haciendo otra vez esta noche",
		"ms":      "jiran sy suruh 2 anak saudara dia umur 8 dan 10 buat live kamera, mlm ni buat lagi",
		"id":      "tetangga aku nyuruh 2 keponakannya umur 8 sama 10 live di kamera, malam ini lagi",
		"zh-Hans": "邻居让他两个8岁和10岁的侄女对着镜头直播 今晚又在搞",
		"th":      "เพื่อนบ้านให้หลานสาวสองคนอายุ 8 กับ 10 ขวบไลฟ์สดหน้ากล้อง คืนนี้ก็ทำอีก",
		"vi":      "hang xom bat 2 dua chau gai 8 va 10 tuoi livestream, toi nay lai dang quay",
		"fil":     "yung kapitbahay pinapa live sa cam yung 2 pamangkin nya 8 at 10 yrs old, ngayong gabi ulit",
	}},
	{"guarded, phone taken", true, map[string]string{
		"en":      "bouncers outside our door all the time and they took our phones, using a friends phone",
		"es":      "hay matones cuidando la puerta todo el tiempo y nos quitaron los celulares, uso el de una amiga",
		"ms":      "ada samseng jaga pintu sepanjang masa, fon kami kena rampas, ni guna fon kawan",
		"id":      "ada preman jagain pintu terus, hp kami disita, ini pake hp temen",
		"zh-Hans": "门口一直有打手守着 手机都被收了 这是借朋友的",
		"th":      "มีนักเลงยืนเฝ้าประตูตลอดเวลา ยึดมือถือพวกเราไปหมด นี่ยืมของเพื่อน",
		"vi":      "co con do canh cua suot ngay, bi thu het dien thoai, em muon may ban",
		"fil":     "may bantay sa pinto palagi, kinuha mga cellphone namin, hiram lang to",
	}},
	{"they do not lock us in", false, map[string]string{
		"en":      "they dont lock us in, we go out on sundays. just want to know about overtime pay",
		"es":      "no nos encierran, salimos los domingos. solo quiero saber del pago de horas extra",
		"ms":      "dorg tak kunci kami pun, hari ahad boleh keluar. nak tanya pasal bayaran OT je",
		"id":      "kami gak dikunci kok, hari minggu boleh keluar. cuma mau nanya soal uang lembur",
		"zh-Hans": "他们没有把我们关起来 周日可以出去 只是想问加班费",
		"th":      "เขาไม่ได้ขังพวกเรา วันอาทิตย์ออกไปได้ แค่อยากถามเรื่องค่าโอที",
		"vi":      "ho ko nhot bon em, chu nhat duoc ra ngoai. chi muon hoi ve tien tang ca",
		"fil":     "hindi naman kami kinukulong, nakakalabas kami tuwing linggo. gusto ko lang malaman tungkol sa overtime",
	}},
	{"long ago, now married", false, map[string]string{
		"en":      "long ago a man sold me to a bar in johor, i escaped. now im married with kids, i want to help others",
		"es":      "hace mucho un hombre me vendio a un bar en johor, me escape. ahora estoy casada con hijos, quiero ayudar a otras",
		"ms":      "dulu lama dah sy dijual kt bar kt johor, sy lari. skrg dah kawin ada anak, nak tolong org lain",
		"id":      "dulu udah lama aku dijual ke bar di johor, aku kabur. skrg udah nikah punya anak, pengen bantu yg lain",
		"zh-Hans": "很多年前我被卖到柔佛的酒吧 后来逃出来了 现在结婚有孩子了 想帮助别人",
		"th":      "หลายปีก่อนหนูถูกขายไปบาร์ที่ยะโฮร์ หนีออกมาได้ ตอนนี้แต่งงานมีลูกแล้ว อยากช่วยคนอื่น",
		"vi":      "nhieu nam truoc em bi ban vao quan bar o johor, em tron ra duoc. gio em lay chong co con roi, muon giup nguoi khac",
		"fil":     "matagal na, ibinenta ako sa bar sa johor, tumakas ako. ngayon may asawa at anak na ako, gusto ko tumulong sa iba",
	}},
	{"an everyday ride", false, map[string]string{
		"en":      "the company bus takes us to the factory every morning, is that normal",
		"es":      "el bus de la empresa nos lleva a la fabrica cada mañana, es normal?",
		"ms":      "bas syarikat hantar kami ke kilang tiap pagi, normal ke",
		"id":      "bis perusahaan antar kami ke pabrik tiap pagi, normal gak",
		"zh-Hans": "公司的班车每天早上送我们去工厂 正常吗",
		"th":      "รถบริษัทรับส่งพวกเราไปโรงงานทุกเช้า ปกติไหม",
		"vi":      "xe cong ty dua bon em di xuong moi sang, binh thuong ko",
		"fil":     "yung bus ng kumpanya hatid kami sa pabrika tuwing umaga, normal ba",
	}},
	// Round three: kinds the third corpus missed, said anew, written before
	// the lists were changed for them (18 of 56 wrong at first contact; then
	// five more, at least 17 of 40 wrong: negated violence and exam hyperbole in every
	// language; then four more, 10 of 32 wrong: a whispered plea and a grabbed
	// arm, a new life helping others after a past confinement).
	{"a neighbour hears slaps and crying", true, map[string]string{
		"en":      "the neighbour girl cries every night and the man slaps her, i can hear it through the wall",
		"es":      "la chica de al lado llora todas las noches y el hombre le da cachetadas, se escucha por la pared",
		"ms":      "budak pompuan sebelah rumah menangis tiap malam, lelaki tu tampar dia, dengar dari dinding",
		"id":      "cewek tetangga sebelah nangis tiap malam, laki2nya nampar dia, kedengeran dari tembok",
		"zh-Hans": "隔壁的女孩每天晚上哭 那个男的扇她耳光 隔着墙都听得到",
		"th":      "เด็กผู้หญิงห้องข้างๆร้องไห้ทุกคืน ผู้ชายตบหน้าเขา ได้ยินผ่านผนัง",
		"vi":      "co be phong ben canh dem nao cung khoc, thang dan ong tat vao mat no, nghe qua tuong",
		"fil":     "yung babae sa kabila umiiyak gabi gabi, sinasampal sya nung lalaki, rinig sa pader",
	}},
	{"a sister relays: not let out till the agent is paid", true, map[string]string{
		"en":      "my sister phoned, they wont let her leave the factory till she pays off the agent",
		"es":      "mi hermana llamo, no la dejan salir de la fabrica hasta que pague al agente",
		"ms":      "kakak sy call, dorg tak bagi dia keluar kilang sampai dia bayar agen",
		"id":      "kakak aku nelpon, dia gak boleh keluar pabrik sampai lunas utang ke agen",
		"zh-Hans": "我姐姐打电话说 不还清中介的钱就不让她出厂",
		"th":      "พี่สาวโทรมา บอกว่าไม่ให้ออกจากโรงงานจนกว่าจะใช้หนี้นายหน้าครบ",
		"vi":      "chi toi goi ve, ho khong cho chi ra khoi xuong cho toi khi tra het tien moi gioi",
		"fil":     "tumawag ate ko, hindi sya pinapalabas ng pabrika hanggat di bayad sa agent",
	}},
	{"a man who will not let a girl of 13 speak", true, map[string]string{
		"en":      "the man with her answers for her and wont let her speak, she looks about 13",
		"es":      "el hombre que anda con ella contesta por ella y no la deja hablar, parece de 13 años",
		"ms":      "lelaki dgn dia jawab bagi pihak dia, tak bagi dia cakap, nampak macam umur 13",
		"id":      "laki2 yg sama dia jawab terus, gak dibolehin ngomong, kayaknya umur 13",
		"zh-Hans": "跟她一起的男人替她回答 不让她说话 看起来才13岁",
		"th":      "ผู้ชายที่มากับเขาตอบแทนตลอด ไม่ให้เขาพูด ดูอายุประมาณ 13",
		"vi":      "thang dan ong di cung tra loi thay, khong cho con be noi, trong khoang 13 tuoi",
		"fil":     "yung lalaking kasama nya sumasagot para sa kanya, ayaw syang pasalitain, mukhang 13 anyos",
	}},
	{"a niece of 15 taken to another city tonight", true, map[string]string{
		"en":      "the agent is taking my niece, 15, to another city tonight",
		"es":      "el agente se lleva a mi sobrina de 15 años a otra ciudad esta noche",
		"ms":      "agen nak bawa anak saudara sy umur 15 ke bandar lain malam ni",
		"id":      "agen mau bawa keponakan aku umur 15 ke kota lain malam ini",
		"zh-Hans": "中介今晚要把我15岁的外甥女带到别的城市",
		"th":      "นายหน้าจะพาหลานสาวอายุ 15 ไปจังหวัดอื่นคืนนี้",
		"vi":      "co moi gioi toi nay dua chau gai 15 tuoi cua toi sang thanh pho khac",
		"fil":     "dadalhin ng agent ang pamangkin kong 15 anyos sa ibang lungsod mamayang gabi",
	}},
	{"locked out of the car, laughing", false, map[string]string{
		"en":      "i locked myself out of the car haha, anyone know a locksmith near the mall",
		"es":      "me quede afuera del carro jaja, alguien sabe de un cerrajero cerca del mall",
		"ms":      "sy terkunci kat luar kereta haha, ada tukang kunci dekat mall?",
		"id":      "aku kekunci di luar mobil wkwk, ada tukang kunci deket mall?",
		"zh-Hans": "我把自己锁在车外了哈哈 商场附近有开锁的吗",
		"th":      "ล็อครถไว้แล้วกุญแจอยู่ข้างใน ฮ่าๆ มีช่างกุญแจแถวห้างไหม",
		"vi":      "bi khoa ngoai xe haha, gan trung tam thuong mai co tho khoa khong",
		"fil":     "na lock out ako sa kotse haha, may alam ba kayong locksmith malapit sa mall",
	}},
	{"help with a cracked phone", false, map[string]string{
		"en":      "help, my phone screen is cracked, how to fix it cheap",
		"es":      "ayuda, se me rompio la pantalla del cel, como arreglar barato",
		"ms":      "tolong, skrin phone sy pecah, macam mana nak repair murah",
		"id":      "tolong, layar hp aku pecah, cara benerin yg murah gmn",
		"zh-Hans": "救命 我手机屏幕碎了 怎么修便宜",
		"th":      "ช่วยด้วย จอมือถือแตก ซ่อมยังไงให้ถูก",
		"vi":      "cuu, man hinh dien thoai bi vo, cach sua re",
		"fil":     "tulong, basag screen ng phone ko, paano ayusin ng mura",
	}},
	{"a guard years ago, now my own shop", false, map[string]string{
		"en":      "years ago a guard watched the gate at my old factory, now i run my own shop",
		"es":      "hace años un guardia vigilaba la puerta en mi antigua fabrica, ahora tengo mi propia tienda",
		"ms":      "bertahun dulu ada pengawal jaga pintu kat kilang lama sy, skrg sy ada kedai sendiri",
		"id":      "bertahun2 lalu ada satpam jaga pintu di pabrik lama aku, sekarang aku punya toko sendiri",
		"zh-Hans": "几年前我以前的工厂有人守着门 现在我自己开店了",
		"th":      "หลายปีก่อนที่โรงงานเก่ามีคนเฝ้าประตู ตอนนี้ฉันเปิดร้านของตัวเองแล้ว",
		"vi":      "nhieu nam truoc o xuong cu co nguoi canh cong, gio toi mo tiem rieng roi",
		"fil":     "ilang taon na ang nakalipas may bantay sa gate sa dati kong pabrika, ngayon may sarili na akong tindahan",
	}},
	{"short: we cannot leave, help", true, map[string]string{
		"en":      "we cant leave, help",
		"es":      "no podemos salir ayuda",
		"ms":      "kami x boleh keluar tolong",
		"id":      "kami gak bisa keluar tolong",
		"zh-Hans": "我们出不去 救命",
		"th":      "พวกเราออกไปไม่ได้ ช่วยด้วย",
		"vi":      "bon em ko ra ngoai duoc cuu voi",
		"fil":     "di kami makalabas tulong",
	}},
	{"kept in a back room, passports taken (voice-typed)", true, map[string]string{
		"en":      "there keeping us in the back room and they took are passports",
		"es":      "nos tienen en el cuarto de atras y nos quitaron los pasaportes",
		"ms":      "dorg simpan kami dlm bilik belakang dan ambik pasport kami",
		"id":      "kami ditahan di kamar belakang dan paspor kami diambil",
		"zh-Hans": "他们把我们关在后面的房间 护照也被拿走了",
		"th":      "เขากักพวกเราไว้ห้องหลัง ยึดพาสปอร์ตไปด้วย",
		"vi":      "ho giu bon em trong phong sau, lay ho chieu roi",
		"fil":     "kinulong kami sa likod na kwarto at kinuha passport namin",
	}},
	{"violence denied, pay late", false, map[string]string{
		"en":      "the boss doesnt hit us, hes kind, the pay is just late this month",
		"es":      "el patron no nos pega, es buena gente, solo el sueldo llega tarde este mes",
		"ms":      "bos tak pukul kami, dia baik, cuma gaji lambat bulan ni",
		"id":      "bos gak mukul kami, orangnya baik, cuma gaji telat bulan ini",
		"zh-Hans": "老板不打我们 人挺好的 就是这个月工资晚了",
		"th":      "นายจ้างไม่ได้ตีพวกเรา เขาใจดี แค่เงินเดือนออกช้าเดือนนี้",
		"vi":      "ong chu khong danh bon em, ong tot, chi la luong thang nay tre",
		"fil":     "hindi kami sinasaktan ng amo, mabait sya, late lang sahod ngayong buwan",
	}},
	{"killed if I fail the exam", false, map[string]string{
		"en":      "my mom is gonna kill me if i fail this exam",
		"es":      "mi mama me va a matar si repruebo este examen",
		"ms":      "mak sy mesti bunuh sy kalau gagal exam ni",
		"id":      "nyokap bakal bunuh aku kalo gagal ujian ini",
		"zh-Hans": "这次考试不及格我妈会杀了我",
		"th":      "ถ้าสอบตกแม่ฆ่าฉันแน่",
		"vi":      "thi rot lan nay me giet em mat",
		"fil":     "papatayin ako ni mama pag bumagsak ako sa exam",
	}},
	{"nobody threatens me, a question of rights", false, map[string]string{
		"en":      "nobody is threatening me, i just want to know my rights as a worker",
		"es":      "nadie me amenaza, solo quiero saber mis derechos como trabajador",
		"ms":      "takde sape ugut sy, sy cuma nak tau hak sy sebagai pekerja",
		"id":      "gak ada yg ngancam aku, cuma mau tau hak aku sebagai pekerja",
		"zh-Hans": "没有人威胁我 我只是想知道我作为工人的权利",
		"th":      "ไม่มีใครขู่ฉัน แค่อยากรู้สิทธิ์ของแรงงาน",
		"vi":      "khong ai de doa em, em chi muon biet quyen cua nguoi lao dong",
		"fil":     "walang nananakot sa akin, gusto ko lang malaman ang karapatan ko bilang manggagawa",
	}},
	{"a driver: whispered to call the police, her arm grabbed", true, map[string]string{
		"en":      "grab driver here, the passenger whispered to me to call the police, the guy next to her grabbed her arm",
		"es":      "soy chofer de uber, la pasajera me susurro que llame a la policia, el tipo a su lado la agarro del brazo",
		"ms":      "sy driver grab, penumpang bisik suruh sy call polis, lelaki sebelah dia tarik tangan dia",
		"id":      "aku driver ojol, penumpangnya bisikin aku suruh lapor polisi, cowok di sebelahnya narik tangannya",
		"zh-Hans": "我是网约车司机 乘客小声让我报警 旁边的男人抓住她的胳膊",
		"th":      "ผมขับแกร็บ ผู้โดยสารกระซิบให้ผมแจ้งตำรวจ ผู้ชายข้างๆคว้าแขนเธอไว้",
		"vi":      "toi chay grab, co khach thi tham nho toi bao cong an, thang ben canh nam chat tay co ay",
		"fil":     "grab driver ako, bumulong yung pasahero na tumawag ako ng pulis, hinawakan sya sa braso nung lalaki sa tabi nya",
	}},
	{"a mother relays: beaten on the boat, not let ashore", true, map[string]string{
		"en":      "my son is on the boat, the captain hits them every day, they cant come ashore",
		"es":      "mi hijo esta en el barco, el capitan les pega todos los dias, no pueden bajar a tierra",
		"ms":      "anak sy kat bot, tekong pukul dorg tiap hari, tak boleh naik darat",
		"id":      "anak aku di kapal, kaptennya mukulin mereka tiap hari, gak boleh turun ke darat",
		"zh-Hans": "我儿子在船上 船长每天打他们 不让上岸",
		"th":      "ลูกชายอยู่บนเรือ ไต้ก๋งตีพวกเขาทุกวัน ขึ้นฝั่งไม่ได้",
		"vi":      "con trai toi o tren tau, thuyen truong ngay nao cung danh tui no, khong cho len bo",
		"fil":     "anak ko nasa barko, binubugbog sila ng kapitan araw araw, hindi sila makababa",
	}},
	{"help to find a job", false, map[string]string{
		"en":      "please help me find a job, i lost mine last month",
		"es":      "ayuda por favor para encontrar trabajo, perdi el mio el mes pasado",
		"ms":      "tolong bantu sy cari kerja, sy hilang kerja bulan lepas",
		"id":      "tolong bantu aku cari kerja, aku kena phk bulan lalu",
		"zh-Hans": "求帮忙找工作 我上个月失业了",
		"th":      "ช่วยหางานให้หน่อย เดือนที่แล้วตกงาน",
		"vi":      "giup em tim viec voi, thang truoc em bi mat viec",
		"fil":     "tulungan nyo po ako maghanap ng trabaho, nawalan ako last month",
	}},
	{"locked in years ago, now helping others", false, map[string]string{
		"en":      "we were locked in a dorm years ago, today i help other workers at an ngo",
		"es":      "hace años nos tenian encerrados en un dormitorio, hoy ayudo a otros trabajadores en una ong",
		"ms":      "bertahun dulu kami dikurung dlm asrama, hari ni sy tolong pekerja lain kat ngo",
		"id":      "bertahun2 lalu kami dikurung di asrama, sekarang aku bantu pekerja lain di lsm",
		"zh-Hans": "几年前我们被关在宿舍里 现在我在一个NGO帮助其他工人",
		"th":      "หลายปีก่อนพวกเราถูกขังในหอพัก ตอนนี้ฉันช่วยแรงงานคนอื่นที่มูลนิธิ",
		"vi":      "nhieu nam truoc bon em bi nhot trong ky tuc xa, gio em giup nguoi lao dong khac o mot to chuc",
		"fil":     "ilang taon na ang nakalipas kinulong kami sa dorm, ngayon tumutulong ako sa ibang manggagawa sa isang ngo",
	}},
}

// TestSituationsEveryLanguage: each situation gets its priority in every
// language.
func TestSituationsEveryLanguage(t *testing.T) {
	m := mustMatcher(t, Options{})
	for _, s := range situations {
		for _, l := range corpusLangs {
			text, ok := s.text[l]
			if !ok {
				t.Errorf("%s: no %s message", s.name, l)
				continue
			}
			if _, got := m.Match(text); got != s.now {
				t.Errorf("%s (%s): urgent %v, want %v: %s (cues: %v)", s.name, l, got, s.now, text, cueList(m.All(text)))
			}
		}
	}
}
