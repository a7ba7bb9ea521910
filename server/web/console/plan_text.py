"""The plan pages' text in Vietnamese and English, merged into ``server.web.i18n.TEXT``."""

from server.web import i18n

TEXT: dict[str, tuple[str, str]] = {
    "c_plans": ("Kế hoạch vòng tới", "Round plans"),
    "c_plan": ("Kế hoạch vòng {year}", "Plan for round {year}"),
    "c_plan_lead": ("Đề xuất mẫu cho vòng tới, dựa trên độ bất định của vòng trước: nơi mức ưu tiên "
                    "chưa chắc chắn và nơi vừa được truyền thông được thăm nhiều hơn. Đây vẫn là một "
                    "mẫu xác suất: xác suất chọn của từng xã được ghi lại và dùng để tính trọng số.",
                    "A proposed sample for the next round, from the last round's uncertainty: "
                    "communes whose tier is unsure and communes outreach newly reached are more "
                    "likely to be visited. It stays a probability sample: each commune's inclusion "
                    "probability is recorded and weights the estimates."),
    "c_plan_propose": ("Đề xuất kế hoạch", "Propose a plan"),
    "c_plan_year": ("Vòng (năm)", "Round (year)"),
    "c_plan_budget": ("Số phỏng vấn (cả từ chối)", "Interviews (refusals included)"),
    "c_plan_budget_help": ("Để trống: bằng số phỏng vấn của vòng trước.",
                           "Empty: the last round's interviews."),
    "c_plan_capacity": ("Số xã mỗi quận/huyện", "Communes per district"),
    "c_plan_capacity_help": ("Số xã một nhóm điều tra viên đi được trong vòng (mặc định 4).",
                             "Communes a district's team can visit in the round (default 4)."),
    "c_plan_notes": ("Ghi chú", "Notes"),
    "c_plan_status": ("Trạng thái", "Status"),
    "plan_draft": ("bản nháp", "draft"),
    "plan_approved": ("đã duyệt", "approved"),
    "plan_superseded": ("đã thay thế", "superseded"),
    "c_plan_based_on": ("Dựa trên vòng {year}", "Based on round {year}"),
    "c_plan_base": ("Dựa trên vòng", "Based on round"),
    "c_plan_no_base": ("Chưa có vòng nào có dữ liệu: mẫu theo thiết kế cố định (PPS theo số người "
                       "lớn).",
                       "No round has data yet: the fixed design's sample (PPS on adults)."),
    "c_plan_seed": ("Hạt giống ngẫu nhiên {seed} (ghi lại: lần rút có thể lặp lại)",
                    "Random seed {seed} (recorded: the draw can be repeated)"),
    "c_plan_totals": ("{communes} xã, {interviews} phỏng vấn",
                      "{communes} communes, {interviews} interviews"),
    "c_plan_by": ("Đề xuất bởi {who} lúc {at}", "Proposed by {who} at {at}"),
    "c_plan_approved_by": ("Duyệt bởi {who} lúc {at}", "Approved by {who} at {at}"),
    "c_plan_communes": ("Các xã được chọn", "Selected communes"),
    "c_plan_reason": ("Lý do", "Reason"),
    "c_plan_take": ("Số phỏng vấn", "Take"),
    "c_plan_pi": ("Xác suất chọn", "Inclusion probability"),
    "c_plan_certain": ("chắc chắn", "certain"),
    "c_plan_tier": ("Mức (vòng trước)", "Tier (last round)"),
    "c_plan_gain": ("Lợi ích dự kiến", "Expected gain"),
    "c_plan_measure": ("Thước đo", "Measure"),
    "c_plan_place": ("Nơi", "Place"),
    "c_plan_before": ("Trước (vòng trước)", "Before (last round)"),
    "c_plan_after": ("Sau (kế hoạch này)", "After (this plan)"),
    "c_plan_width": ("Độ rộng khoảng tin cậy 95% (điểm %), trước → sau",
                     "95% interval width (points), before → after"),
    "c_plan_wrong": ("Khả năng xếp sai nhóm, trước → sau", "Chance of a wrong tier, before → after"),
    "c_plan_city": ("Toàn thành phố", "City"),
    "c_plan_gain_note": ("Ước tính gần đúng: trước là vòng trước (hoặc thiết kế cố định cùng số phỏng "
                         "vấn), sau là kế hoạch này.",
                         "Approximate: before is the last round (or the fixed design with the same "
                         "interviews), after is this plan."),
    "c_plan_districts": ("Theo quận/huyện", "By district"),
    "c_plan_edit": ("Sửa kế hoạch", "Edit the plan"),
    "c_plan_forced": ("Xã bắt buộc chọn (mã xã, cách nhau bởi dấu cách)",
                      "Communes forced in (keys, spaces between)"),
    "c_plan_keep": ("Vì sao không bỏ được một xã đã rút", "Why a drawn commune cannot be dropped"),
    "c_plan_keep_words": ("Xác suất chọn của mỗi xã được tính khi rút mẫu cùng với các xã khác. Bỏ "
                          "một xã đã rút bằng tay sẽ làm xác suất đã ghi sai và trọng số bị lệch. "
                          "Muốn ít xã hơn, hãy giảm số xã mỗi quận/huyện hoặc số phỏng vấn: kế hoạch "
                          "được rút lại theo thiết kế mới, với xác suất mới được ghi lại.",
                          "Each commune's inclusion probability was computed for the draw it was "
                          "drawn in. Dropping a drawn commune by hand would make the recorded "
                          "probabilities wrong and bias the weights. For fewer communes, lower the "
                          "communes per district or the interviews: the plan is drawn again under the"
                          " new design, and its probabilities are recorded."),
    "c_plan_save": ("Lưu và đề xuất lại", "Save and propose again"),
    "c_plan_approve": ("Duyệt kế hoạch", "Approve the plan"),
    "c_plan_approve_help": ("Khi duyệt, kế hoạch trở thành mẫu của vòng và phân công của điều tra "
                            "viên; điện thoại nhận được ở lần đồng bộ tới.",
                            "Once approved, the plan is the round's sample and the enumerators' "
                            "assignments; their phones get them at the next sync."),
    "c_plan_saved_edit": ("Đã lưu và đề xuất lại.", "Saved and proposed again."),
    "c_plan_saved_approve": ("Đã duyệt: phân công đã được gửi tới điều tra viên.",
                             "Approved: the assignments are on their way to the enumerators."),
    "c_plan_refused": ("Không thực hiện được ({code}):", "Not done ({code}):"),
    "c_plan_who_approves": ("Người lập kế hoạch hoặc quản trị duyệt kế hoạch toàn thành phố; điều "
                            "phối viên chỉ duyệt kế hoạch nằm trọn trong quận/huyện của mình.",
                            "A planner or an admin approves a city-wide plan; a coordinator approves "
                            "only a plan wholly in their districts."),
    "c_plan_none_chosen": ("– chưa chọn –", "– not chosen –"),
    "c_plan_progress": ("Tiến độ theo kế hoạch đã duyệt", "Progress on the approved plan"),
    "c_plan_planned": ("Theo kế hoạch", "Planned"),
    "c_off_plan": ("ngoài kế hoạch", "off plan"),
    "c_off_plan_note": (
        "Có phỏng vấn ở xã/phường mà kế hoạch không chọn. Mỗi phỏng vấn ở đó được tính với "
        "xác suất chọn rất nhỏ mà kế hoạch đã ghi, nên có trọng số rất lớn: hãy hỏi lại nhóm "
        "khảo sát trước khi dùng số liệu.",
        "Interviews arrived from communes the plan did not draw. Each is weighted by the small "
        "inclusion probability the plan recorded for its commune, so it weighs a lot: check "
        "with the team before using the figures."),
}

i18n.add_text(TEXT)
