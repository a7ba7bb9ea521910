"""The readable source of the built-in forms; ``python -m forms.library.source`` writes the .xlsx.

Each row is a dict of XLSForm columns; ``vi``/``en`` expand to the ``::Tiếng Việt (vi)`` and
``::English (en)`` columns. The shipped .xlsx files are what the server and devices read;
a test checks they are what this source builds.
"""

from __future__ import annotations

VI = "Tiếng Việt (vi)"
EN = "English (en)"
CONSENTED = "${consent} = 'yes'"

SURVEY_COLUMNS = [
    "type", "name", "label", "hint", "required", "required_message", "relevant", "constraint",
    "constraint_message", "choice_filter", "calculation", "appearance", "ferry::domain",
    "ferry::score", "ferry::correct",
]
TRANSLATED = ("label", "hint", "required_message", "constraint_message")
REQUIRED_MESSAGE = ("Vui lòng trả lời câu hỏi này.", "Please answer this question.")


def q(type_, name, vi="", en="", **columns):
    """One survey row; keyword ``hint=(vi, en)``, ``constraint_message=(vi, en)`` translate."""
    row = {"type": type_, "name": name, "label": (vi, en)}
    if columns.get("required") == "yes" and "required_message" not in columns:
        row["required_message"] = REQUIRED_MESSAGE
    for key, value in columns.items():
        row[key.replace("ferry_", "ferry::")] = value
    return row


def tf(name, vi, en, correct, domain):
    """A true/false/don't-know knowledge statement keyed on its correct answer."""
    return q("select_one tf", name, vi, en, required="yes", ferry_domain=domain,
             ferry_score="correct", ferry_correct=correct)


def yn(name, vi, en, domain, key="yes", **columns):
    """A yes/no/don't-know item; ``key`` is the keyed (correct or risky) answer."""
    return q("select_one ynd", name, vi, en, required="yes", ferry_domain=domain,
             ferry_score="correct", ferry_correct=key, **columns)


def begin(name, vi, en, relevant=""):
    """Open a group."""
    return {"type": "begin_group", "name": name, "label": (vi, en), "relevant": relevant}


END = {"type": "end_group"}

AWARENESS_SETTINGS = {
    "form_id": "awareness",
    "version": "2017.1",
    "form_title": "Khảo sát nhận thức về phòng, chống mua bán người",
    "default_language": VI,
    "instance_name": "concat('awareness-', ${round}, '-', ${start})",
}

AWARENESS = [
    q("start", "start"),
    q("end", "end"),
    q("select_one round", "round", "Vòng khảo sát", "Survey round", required="yes"),
    q("note", "intro",
      "Xin chào. Chúng tôi đang tìm hiểu hiểu biết của người dân về phòng, chống mua bán người. "
      "Cuộc trò chuyện mất khoảng 10 phút. Chúng tôi không hỏi tên, số điện thoại hay địa chỉ; "
      "anh/chị có thể dừng bất cứ lúc nào.",
      "Hello. We are learning what people know about preventing human trafficking. It takes "
      "about 10 minutes. We do not ask your name, phone number or address; you may stop at any "
      "time."),
    q("select_one yes_no", "consent", "Anh/chị có đồng ý tham gia không?",
      "Do you agree to take part?", required="yes"),
    q("note", "refused", "Cảm ơn anh/chị. Cuộc phỏng vấn kết thúc tại đây.",
      "Thank you. The interview ends here.", relevant="${consent} = 'no'"),

    begin("profile", "Thông tin chung", "About you", CONSENTED),
    q("select_one sex", "sex", "Giới tính", "Sex", required="yes"),
    q("integer", "age", "Tuổi (năm tròn)", "Age (completed years)", required="yes",
      constraint=". >= 15 and . <= 80",
      constraint_message=("Khảo sát dành cho người từ 15 đến 80 tuổi.",
                          "The survey is for people aged 15 to 80.")),
    q("select_one marital", "marital", "Tình trạng hôn nhân", "Marital status", required="yes"),
    q("select_one education", "education", "Trình độ học vấn cao nhất",
      "Highest level of education", required="yes"),
    q("select_one occupation", "occupation", "Nghề nghiệp chính", "Main occupation",
      required="yes"),
    q("select_one_from_file districts.csv", "district", "Quận/huyện nơi đang sống",
      "District of residence", required="yes", appearance="minimal"),
    q("select_one_from_file communes.csv", "commune", "Phường/xã/thị trấn nơi đang sống",
      "Ward/commune/town of residence", required="yes", choice_filter="district=${district}",
      appearance="minimal"),
    q("select_one ynd", "plan_away",
      "Trong 12 tháng tới, anh/chị có dự định đi làm ăn xa (ngoài thành phố) không?",
      "In the next 12 months, do you plan to work away from the city?", required="yes"),
    q("select_one ynd", "plan_abroad",
      "Trong 12 tháng tới, anh/chị có dự định ra nước ngoài làm việc hoặc kết hôn không?",
      "In the next 12 months, do you plan to go abroad to work or to marry?", required="yes"),
    END,

    begin("knowledge", "Hiểu biết", "Knowledge", CONSENTED),
    q("note", "knowledge_intro",
      "Với mỗi câu sau, xin cho biết anh/chị thấy đúng, sai hay không biết.",
      "For each statement, please say whether you think it is true, false, or you don't know."),
    yn("heard", "Anh/chị đã từng nghe nói về nạn mua bán người chưa?",
       "Have you ever heard of human trafficking?", "knowledge.general"),
    tf("sign_job_abroad",
       "Lời mời đi làm ở nước ngoài lương cao, không mất phí, không cần tay nghề là dấu hiệu "
       "đáng ngờ.",
       "An offer of a well-paid job abroad with no fees and no skills needed is a warning sign.",
       "true", "knowledge.signs"),
    tf("sign_marriage_broker",
       "Người môi giới hứa gả con gái cho người nước ngoài giàu có và trả tiền cho gia đình có "
       "thể là kẻ mua bán người.",
       "A broker who promises a daughter marriage to a rich foreigner and pays her family may "
       "be a trafficker.", "true", "knowledge.signs"),
    tf("sign_keep_papers",
       "Người tuyển dụng giữ giấy tờ tùy thân (căn cước, hộ chiếu) của người lao động là việc "
       "bình thường.",
       "It is normal for a recruiter to keep a worker's identity papers (ID card, passport).",
       "false", "knowledge.signs"),
    tf("sign_debt",
       "Một người lạ trả nợ giúp gia đình rồi đòi đi làm xa để trả lại là dấu hiệu đáng ngờ.",
       "A stranger who pays a family's debt and then asks for work far away in return is a "
       "warning sign.", "true", "knowledge.signs"),
    tf("form_forced_labour",
       "Ép buộc người khác lao động không công hoặc không cho rời đi để trục lợi là mua bán "
       "người.",
       "Forcing someone to work unpaid, or not letting them leave, for profit is trafficking.",
       "true", "knowledge.forms"),
    tf("form_marriage",
       "Môi giới kết hôn trái phép với người nước ngoài để kiếm lời có thể là mua bán người.",
       "Illegal marriage brokerage with foreigners for profit can be trafficking.",
       "true", "knowledge.forms"),
    tf("form_cross_border",
       "Đưa người qua biên giới làm việc trái phép rồi giữ họ lại để bóc lột là mua bán người.",
       "Taking people across the border to work illegally and holding them there to exploit "
       "them is trafficking.", "true", "knowledge.forms"),
    tf("form_organ",
       "Dụ dỗ hoặc ép người khác bán thận, bán nội tạng là mua bán người.",
       "Luring or forcing someone to sell a kidney or another organ is trafficking.",
       "true", "knowledge.forms"),
    tf("form_adoption",
       "Cho, nhận con nuôi để lấy tiền là một hình thức mua bán người.",
       "Giving or receiving a child for adoption in exchange for money is a form of "
       "trafficking.", "true", "knowledge.forms"),
    tf("form_legal_export",
       "Đi làm việc ở nước ngoài qua doanh nghiệp được cấp phép, có hợp đồng rõ ràng là mua bán "
       "người.",
       "Working abroad through a licensed company with a clear contract is trafficking.",
       "false", "knowledge.forms"),
    yn("law_exists", "Việt Nam có Luật Phòng, chống mua bán người không?",
       "Does Viet Nam have a Law on Preventing and Combating Human Trafficking?",
       "knowledge.law"),
    tf("law_victim",
       "Theo pháp luật, nạn nhân bị mua bán được bảo vệ, hỗ trợ và không bị xử phạt vì đã bị "
       "mua bán.",
       "Under the law, trafficking victims are protected and supported, and are not punished "
       "for having been trafficked.", "true", "knowledge.law"),
    tf("law_punish",
       "Người mua bán người có thể bị truy cứu trách nhiệm hình sự.",
       "People who traffic others can be prosecuted under criminal law.",
       "true", "knowledge.law"),
    q("select_one hotline", "hotline",
      "Số đường dây nóng tư vấn, hỗ trợ phòng, chống mua bán người là số nào?",
      "What is the hotline number for advice and support on human trafficking?",
      required="yes", ferry_domain="knowledge.hotline", ferry_score="correct"),
    tf("hotline_free", "Gọi đường dây nóng 1800 1567 không mất tiền.",
       "Calling the 1800 1567 hotline is free.", "true", "knowledge.hotline"),
    q("select_multiple report", "report_where",
      "Nếu nghi ngờ có mua bán người, anh/chị có thể báo cho ai? (chọn tất cả)",
      "If you suspect trafficking, whom can you report it to? (select all)", required="yes",
      constraint="not(selected(., 'dont_know') and count-selected(.) > 1)",
      constraint_message=("“Không biết” không thể chọn cùng các mục khác.",
                          "“Don't know” cannot be chosen with other answers."),
      ferry_domain="knowledge.report", ferry_score="count"),
    q("select_one day", "day", "Ngày Toàn dân phòng, chống mua bán người là ngày nào?",
      "Which day is the National Day against Human Trafficking?", required="yes",
      ferry_domain="knowledge.day", ferry_score="correct"),
    q("select_one respond", "respond",
      "Nếu người quen mời đi làm ở nước ngoài lương cao, việc nên làm trước tiên là gì?",
      "If an acquaintance offers you a well-paid job abroad, what should you do first?",
      required="yes", ferry_domain="knowledge.respond", ferry_score="correct"),
    q("calculate", "signs_correct", calculation=(
        "if(${sign_job_abroad} = 'true', 1, 0) + if(${sign_marriage_broker} = 'true', 1, 0) + "
        "if(${sign_keep_papers} = 'false', 1, 0) + if(${sign_debt} = 'true', 1, 0)")),
    END,

    begin("risk", "Hoàn cảnh", "Circumstances", CONSENTED),
    yn("risk_broker",
       "Nếu đi làm xa hoặc ra nước ngoài, anh/chị có định đi qua người môi giới không chính "
       "thức (không phải doanh nghiệp được cấp phép) không?",
       "If you go away or abroad to work, would you go through an informal broker (not a "
       "licensed company)?", "risk",
       relevant="${plan_away} = 'yes' or ${plan_abroad} = 'yes'"),
    yn("risk_approached",
       "Trong 12 tháng qua, có ai mời anh/chị hoặc người nhà đi làm xa hay lấy chồng/vợ nước "
       "ngoài qua môi giới không?",
       "In the last 12 months, has anyone offered you or your family work far away or a "
       "foreign marriage through a broker?", "risk"),
    yn("risk_papers",
       "Anh/chị có sẵn sàng đưa giấy tờ tùy thân cho người tuyển dụng giữ không?",
       "Would you let a recruiter keep your identity papers?", "risk"),
    yn("risk_debt", "Gia đình anh/chị hiện có khoản nợ lớn khó trả không?",
       "Does your family have a large debt that is hard to repay?", "risk"),
    yn("risk_lost_contact",
       "Anh/chị có biết ai đi làm xa hoặc lấy chồng/vợ nước ngoài rồi mất liên lạc không?",
       "Do you know anyone who went away to work or married abroad and then lost contact?",
       "risk"),
    END,

    begin("exposure", "Thông tin đã tiếp nhận", "Information received", CONSENTED),
    q("select_one yes_no", "heard_any",
      "Trong 12 tháng qua, anh/chị có nghe, xem hoặc đọc thông tin về phòng, chống mua bán "
      "người không?",
      "In the last 12 months, have you heard, seen or read anything about preventing human "
      "trafficking?", required="yes"),
    q("select_multiple channel", "channels", "Qua những kênh nào? (chọn tất cả)",
      "Through which channels? (select all)", required="yes",
      relevant="${heard_any} = 'yes'", ferry_domain="exposure", ferry_score="count",
      ferry_correct="newspaper city_radio_tv web_portal loudspeaker mobile_team "
                    "commune_meeting event social_media legal_bookshelf family_friends"),
    q("select_one channel", "channel_main", "Kênh nào giúp anh/chị hiểu rõ nhất?",
      "Which channel helped you understand best?", required="yes",
      relevant="${heard_any} = 'yes'", constraint="selected(${channels}, .)",
      constraint_message=("Hãy chọn một kênh đã đánh dấu ở câu trước.",
                          "Choose one of the channels ticked in the previous question.")),
    END,
    q("note", "thanks", "Cảm ơn anh/chị đã tham gia!", "Thank you for taking part!",
      relevant=CONSENTED),
]


def c(list_name, name, vi, en, **extra):
    """One choices row."""
    return {"list_name": list_name, "name": name, "label": (vi, en),
            **{k.replace("ferry_", "ferry::"): v for k, v in extra.items()}}


AWARENESS_CHOICES = [
    c("round", "2017", "2017 (khảo sát đầu kỳ)", "2017 (baseline)"),
    c("round", "2018", "2018", "2018"),
    c("round", "2019", "2019", "2019"),
    c("round", "2020", "2020", "2020"),
    c("yes_no", "yes", "Có", "Yes"),
    c("yes_no", "no", "Không", "No"),
    c("ynd", "yes", "Có", "Yes"),
    c("ynd", "no", "Không", "No"),
    c("ynd", "dont_know", "Không biết / không trả lời", "Don't know / no answer"),
    c("tf", "true", "Đúng", "True"),
    c("tf", "false", "Sai", "False"),
    c("tf", "dont_know", "Không biết", "Don't know"),
    c("sex", "female", "Nữ", "Female"),
    c("sex", "male", "Nam", "Male"),
    c("marital", "single", "Chưa kết hôn", "Never married"),
    c("marital", "married", "Đang có vợ/chồng", "Married"),
    c("marital", "widowed", "Góa", "Widowed"),
    c("marital", "separated", "Ly hôn / ly thân", "Divorced or separated"),
    c("education", "none", "Chưa đi học", "No schooling"),
    c("education", "primary", "Tiểu học", "Primary"),
    c("education", "lower_secondary", "Trung học cơ sở", "Lower secondary"),
    c("education", "upper_secondary", "Trung học phổ thông", "Upper secondary"),
    c("education", "vocational", "Trung cấp / cao đẳng nghề", "Vocational / college"),
    c("education", "university", "Đại học trở lên", "University or higher"),
    c("occupation", "farming", "Làm ruộng, vườn, chăn nuôi, thủy sản",
      "Farming, livestock or fishing"),
    c("occupation", "factory", "Công nhân", "Factory worker"),
    c("occupation", "trade", "Buôn bán, kinh doanh nhỏ", "Trade or small business"),
    c("occupation", "hired_labour", "Làm thuê, lao động tự do", "Casual or hired labour"),
    c("occupation", "public_sector", "Cán bộ, công chức, viên chức", "Public sector"),
    c("occupation", "student", "Học sinh, sinh viên", "Student"),
    c("occupation", "homemaker", "Nội trợ", "Homemaker"),
    c("occupation", "no_work", "Không có việc làm", "Not working"),
    c("occupation", "other", "Khác", "Other"),
    c("hotline", "18001567", "1800 1567", "1800 1567", ferry_correct="1"),
    c("hotline", "113", "113", "113"),
    c("hotline", "115", "115", "115"),
    c("hotline", "1022", "1022", "1022"),
    c("hotline", "dont_know", "Không biết", "Don't know"),
    c("report", "police", "Công an", "Police", ferry_correct="1"),
    c("report", "commune_committee", "Ủy ban nhân dân xã/phường", "Commune People's Committee",
      ferry_correct="1"),
    c("report", "border_guard", "Bộ đội biên phòng", "Border guard", ferry_correct="1"),
    c("report", "hotline", "Đường dây nóng 1800 1567", "The 1800 1567 hotline",
      ferry_correct="1"),
    c("report", "mass_organisation", "Hội Phụ nữ, Đoàn Thanh niên, Mặt trận",
      "Women's Union, Youth Union or Fatherland Front", ferry_correct="1"),
    c("report", "dont_know", "Không biết", "Don't know"),
    c("day", "30_07", "30 tháng 7", "30 July", ferry_correct="1"),
    c("day", "26_06", "26 tháng 6", "26 June"),
    c("day", "01_06", "1 tháng 6", "1 June"),
    c("day", "20_10", "20 tháng 10", "20 October"),
    c("day", "dont_know", "Không biết", "Don't know"),
    c("respond", "check", "Hỏi chính quyền địa phương hoặc cơ quan lao động để kiểm tra",
      "Check with the local authorities or the labour office", ferry_correct="1"),
    c("respond", "go", "Nhận lời ngay để không lỡ cơ hội", "Accept at once so as not to miss it"),
    c("respond", "pay", "Đóng tiền đặt cọc cho người giới thiệu", "Pay the go-between a deposit"),
    c("respond", "dont_know", "Không biết", "Don't know"),
]

CHANNELS = [
    ("newspaper", "Báo Cần Thơ, báo in", "Cần Thơ newspaper or other print"),
    ("city_radio_tv", "Đài Phát thanh và Truyền hình thành phố", "City radio and television"),
    ("web_portal", "Cổng thông tin điện tử thành phố", "City web portal"),
    ("loudspeaker", "Loa truyền thanh quận/huyện, xã", "District or commune loudspeakers"),
    ("mobile_team", "Đội thông tin lưu động", "Mobile information team"),
    ("commune_meeting", "Họp tổ dân phố, ấp, xã", "Neighbourhood or commune meeting"),
    ("event", "Sự kiện, hội thi, ngày 30/7", "Event, contest or 30 July activity"),
    ("social_media", "Mạng xã hội (Facebook, Zalo...)", "Social media (Facebook, Zalo...)"),
    ("legal_bookshelf", "Tủ sách pháp luật, thư viện", "Legal bookshelf or library"),
    ("family_friends", "Gia đình, bạn bè, hàng xóm", "Family, friends or neighbours"),
    ("other", "Khác", "Other"),
]
AWARENESS_CHOICES += [c("channel", n, vi, en) for n, vi, en in CHANNELS]

OUTREACH_SETTINGS = {
    "form_id": "outreach",
    "version": "2017.1",
    "form_title": "Nhật ký hoạt động truyền thông phòng, chống mua bán người",
    "default_language": VI,
    "instance_name": "concat('outreach-', ${activity_date}, '-', ${activity_type})",
}

NOT_IN_PERSON = "'radio_programme tv_report newspaper_article web_post loudspeaker'"

OUTREACH = [
    q("date", "activity_date", "Ngày thực hiện", "Date of the activity", required="yes",
      constraint=". >= '2017-01-01' and . <= today()",
      constraint_message=("Ngày phải từ 01/01/2017 đến hôm nay.",
                          "The date must be between 1 January 2017 and today.")),
    q("select_one level", "level", "Phạm vi hoạt động", "Scope of the activity",
      required="yes"),
    q("select_one_from_file districts.csv", "district", "Quận/huyện", "District",
      required="yes", relevant="${level} != 'city'", appearance="minimal"),
    q("select_multiple_from_file communes.csv", "communes", "Phường/xã/thị trấn (chọn tất cả)",
      "Wards/communes/towns (select all)", required="yes", relevant="${level} = 'commune'",
      choice_filter="district=${district}", appearance="minimal"),
    q("select_one activity", "activity_type", "Hình thức hoạt động", "Type of activity",
      required="yes"),
    q("text", "activity_other", "Hình thức khác (ghi rõ)", "Other type (describe)",
      required="yes", relevant="${activity_type} = 'other'",
      constraint="string-length(.) <= 200",
      constraint_message=("Tối đa 200 ký tự.", "At most 200 characters.")),
    q("select_multiple target", "target_groups", "Nhóm đối tượng hướng đến (chọn tất cả)",
      "Target groups addressed (select all)", required="yes"),
    q("integer", "people_reached", "Số người được tiếp cận (ước tính)",
      "People reached (estimate)", required="yes",
      constraint=". >= 0 and . <= 2000000",
      constraint_message=("Số người phải từ 0 đến 2.000.000.",
                          "The number must be between 0 and 2,000,000.")),
    q("select_one basis", "reach_basis", "Số người trên là", "That number is",
      required="yes"),
    q("decimal", "duration_hours", "Thời lượng (giờ)", "Duration (hours)",
      constraint=". > 0 and . <= 72",
      constraint_message=("Thời lượng phải lớn hơn 0 và không quá 72 giờ.",
                          "The duration must be more than 0 and at most 72 hours.")),
    q("select_one organiser", "organiser", "Đơn vị tổ chức", "Organising unit",
      required="yes"),
    q("text", "organiser_other", "Đơn vị khác (ghi rõ)", "Other unit (describe)",
      required="yes", relevant="${organiser} = 'other'"),
    q("geopoint", "location", "Vị trí nơi tổ chức (không bắt buộc)",
      "Where it took place (optional)",
      relevant=f"${{level}} != 'city' and not(selected({NOT_IN_PERSON}, ${{activity_type}}))"),
    q("text", "remarks", "Ghi chú (không ghi tên, số điện thoại người dân)",
      "Remarks (no residents' names or phone numbers)", appearance="multiline"),
]

OUTREACH_CHOICES = [
    c("level", "city", "Toàn thành phố", "Whole city"),
    c("level", "district", "Quận/huyện", "District"),
    c("level", "commune", "Phường/xã/thị trấn", "Ward/commune/town"),
    c("activity", "radio_programme", "Chương trình phát thanh", "Radio programme"),
    c("activity", "tv_report", "Phóng sự truyền hình", "TV reportage"),
    c("activity", "newspaper_article", "Bài báo", "Newspaper article"),
    c("activity", "web_post", "Tin, bài trên cổng/trang thông tin điện tử", "Web post"),
    c("activity", "mobile_team", "Buổi thông tin lưu động", "Mobile information team session"),
    c("activity", "commune_meeting", "Họp dân, sinh hoạt tổ/ấp", "Commune or neighbourhood meeting"),
    c("activity", "day_30_july", "Sự kiện Ngày 30/7", "30 July event"),
    c("activity", "legal_bookshelf", "Tủ sách pháp luật", "Legal bookshelf"),
    c("activity", "loudspeaker", "Phát thanh trên loa truyền thanh", "Loudspeaker broadcast"),
    c("activity", "other", "Khác", "Other"),
    c("target", "women_marriage_age", "Phụ nữ trong độ tuổi kết hôn", "Women of marriage age"),
    c("target", "rural_remote", "Người dân vùng sâu, vùng xa, nông thôn",
      "People in remote and rural areas"),
    c("target", "low_education", "Người có trình độ học vấn thấp", "People with little schooling"),
    c("target", "youth", "Học sinh, sinh viên, thanh niên", "Students and young people"),
    c("target", "workers", "Người lao động, người đi làm ăn xa", "Workers and migrant workers"),
    c("target", "officials", "Cán bộ, hội viên đoàn thể", "Officials and mass-organisation members"),
    c("target", "general_public", "Người dân nói chung", "The general public"),
    c("basis", "counted", "Đếm thực tế", "Counted"),
    c("basis", "estimated", "Ước tính", "Estimated"),
    c("organiser", "dept_information", "Sở Thông tin và Truyền thông",
      "Department of Information and Communications"),
    c("organiser", "police", "Công an thành phố", "City police"),
    c("organiser", "newspaper", "Báo Cần Thơ", "Cần Thơ newspaper"),
    c("organiser", "radio_tv", "Đài Phát thanh và Truyền hình thành phố",
      "City radio and television"),
    c("organiser", "web_portal", "Cổng thông tin điện tử thành phố", "City web portal"),
    c("organiser", "district_committee", "UBND quận/huyện (Phòng Văn hóa - Thông tin, Đài truyền thanh)",
      "District People's Committee (culture and information office, radio station)"),
    c("organiser", "commune_committee", "UBND phường/xã/thị trấn", "Commune People's Committee"),
    c("organiser", "womens_union", "Hội Liên hiệp Phụ nữ", "Women's Union"),
    c("organiser", "youth_union", "Đoàn Thanh niên", "Youth Union"),
    c("organiser", "other", "Khác", "Other"),
]

FORMS = {
    "awareness": (AWARENESS_SETTINGS, AWARENESS, AWARENESS_CHOICES),
    "outreach": (OUTREACH_SETTINGS, OUTREACH, OUTREACH_CHOICES),
}


def _cells(row: dict, columns: list[str]) -> list[str]:
    out = []
    for column in columns:
        if column in TRANSLATED or column == "label":
            pair = row.get(column) or ("", "")
            out += [pair[0], pair[1]]
        else:
            out.append(row.get(column, ""))
    return out


def _header(columns: list[str]) -> list[str]:
    out = []
    for column in columns:
        if column in TRANSLATED or column == "label":
            out += [f"{column}::{VI}", f"{column}::{EN}"]
        else:
            out.append(column)
    return out


def workbook_bytes(name: str) -> bytes:
    """Build the .xlsx of one built-in form in memory."""
    import io

    import openpyxl

    settings, survey, choices = FORMS[name]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(_header(SURVEY_COLUMNS))
    for row in survey:
        sheet.append(_cells(row, SURVEY_COLUMNS))
    choice_columns = ["list_name", "name", "label", "ferry::correct"]
    sheet = book.create_sheet("choices")
    sheet.append(_header(choice_columns))
    for row in choices:
        sheet.append(_cells(row, choice_columns))
    sheet = book.create_sheet("settings")
    sheet.append(list(settings))
    sheet.append(list(settings.values()))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def place_csvs(reference_csv) -> dict[str, str]:
    """districts.csv and communes.csv (GSO codes as names; a slug where a ward has no code)."""
    import csv
    import io
    import unicodedata

    def slug(text: str) -> str:
        ascii_ = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
        ascii_ = "".join(ch for ch in ascii_ if not unicodedata.combining(ch)).lower()
        return "-".join("".join(ch if ch.isalnum() else " " for ch in ascii_).split())

    prefix = {"urban": "Quận", "rural": "Huyện", "ward": "Phường", "commune": "Xã",
              "town": "Thị trấn"}
    districts: dict[str, list[str]] = {}
    communes = []
    with open(reference_csv, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["district_code"]
            districts.setdefault(code, [code, f"{prefix[row['district_kind']]} "
                                              f"{row['district_name']}", row["district_kind"]])
            name = row["commune_code"] or f"{code}-{slug(row['commune_name'])}"
            communes.append([name, f"{prefix[row['commune_kind']]} {row['commune_name']}", code,
                             row["commune_kind"]])
    out = {}
    for filename, header, rows in (("districts.csv", ["name", "label", "kind"],
                                    list(districts.values())),
                                   ("communes.csv", ["name", "label", "district", "kind"],
                                    communes)):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        out[filename] = buffer.getvalue()
    return out


def write_all(folder) -> None:
    """Write the .xlsx of every built-in form and the place CSVs into ``folder``."""
    from pathlib import Path

    folder = Path(folder)
    reference = folder.parent / "reference" / "cantho" / "communes_2019.csv"
    for filename, text in place_csvs(reference).items():
        (folder / filename).write_text(text, encoding="utf-8")
    for name in FORMS:
        (folder / f"{name}.xlsx").write_bytes(workbook_bytes(name))


if __name__ == "__main__":
    from pathlib import Path

    write_all(Path(__file__).parent)
