"""Words of the gap report in Vietnamese and English: headings, method notes, reasons for a priority."""

from __future__ import annotations

from analysis import labels
from analysis.change import CAVEATS

__all__ = ["TEXT", "COLUMNS", "note"]

#: key → (Vietnamese, English).
TEXT = {
    "title": (
        'Báo cáo khoảng trống nhận thức về phòng, chống mua bán người năm {year}',
        'Awareness-gap report on human trafficking, {year}',
    ),
    "round": (
        'Vòng khảo sát',
        'Survey round',
    ),
    "compared_with": (
        'so với vòng',
        'compared with',
    ),
    "generated": (
        'Ngày lập',
        'Date',
    ),
    "due": (
        'Gửi Sở Thông tin và Truyền thông trước ngày 12 tháng 11 (Kế hoạch 136/KH-UBND).',
        'Due to the Department of Information and Communications by 12 November (Plan 136/KH-UBND).',
    ),
    "method": (
        'Phương pháp và cách đọc',
        'Method and how to read it',
    ),
    "method_design": (
        'Ước lượng theo thiết kế mẫu: phân tầng theo quận/huyện, cụm là phường/xã; khoảng tin cậy 95%.',
        'Design-based estimates: strata are districts, clusters are communes; 95% confidence intervals.',
    ),
    "method_change": (
        'Thay đổi = chênh lệch giữa hai vòng khảo sát độc lập, tính bằng điểm phần trăm.',
        'Change = the difference between two independent survey rounds, in percentage points.',
    ),
    "method_suppression": (
        'Số liệu từ dưới {min_n} người trả lời không được công bố và hiện là “–” (không phải 0).',
        'Figures from fewer than {min_n} respondents are withheld and shown as “–” (not 0).',
    ),
    "method_did": (
        'Khác biệt kép (DiD): thay đổi ở các xã có hoạt động truyền thông tại xã, trừ thay đổi ở các xã '
        'khác; không phải bằng chứng nhân quả.',
        'Difference-in-differences: change in communes with local outreach minus change elsewhere; not '
        'proof of cause.',
    ),
    "method_model": (
        'Mô hình nguy cơ (tuổi, giới, thành thị/nông thôn) được kiểm định chéo theo xã và chiếu lên dân '
        'số tổng điều tra 2019; đây là quy mô để lập kế hoạch, không phải số đếm.',
        'The risk model (age, sex, urban/rural) is cross-validated by commune and projected onto the 2019'
        ' census: a planning size, not a count.',
    ),
    "method_priority": (
        'Thứ tự ưu tiên theo nhu cầu = số người lớn × (1 − hiểu biết) × tỷ lệ có nguy cơ; «khả năng thuộc '
        '{k} nơi cần nhất» tính đến sai số của các ước lượng. Các nơi cùng nhóm ưu tiên nên được coi như '
        'nhau.',
        'Priority by need = adults × (1 − knowledge) × share at risk; the "chance of being among the {k} '
        'most in need" allows for the uncertainty of the estimates. Treat places in one tier as equals.',
    ),
    "levels": (
        'Mức độ nhận thức theo quận/huyện và vòng khảo sát (khoảng tin cậy 95%)',
        'Awareness by district and survey round (95% confidence intervals)',
    ),
    "levels_caption": (
        'Mỗi điểm là một vòng khảo sát; vạch ngang là khoảng tin cậy 95%.',
        'Each marker is a survey round; the bars are 95% confidence intervals.',
    ),
    "groups": (
        'Nhóm đối tượng',
        'Target groups',
    ),
    "groups_change": (
        'Thay đổi theo nhóm đối tượng so với vòng {previous}',
        'Change by target group since {previous}',
    ),
    "groups_caption": (
        'Thay đổi (điểm phần trăm) với khoảng tin cậy 95%; vạch đứng là không thay đổi.',
        'Change (percentage points) with 95% confidence intervals; the vertical line is no change.',
    ),
    "group": (
        'Nhóm',
        'Group',
    ),
    "change": (
        'Thay đổi',
        'Change',
    ),
    "pp": (
        'điểm %',
        'pp',
    ),
    "district_change": (
        'Thay đổi theo quận/huyện so với vòng {previous}',
        'Change by district since {previous}',
    ),
    "did": (
        'Xã có truyền thông tại chỗ so với xã không có (khác biệt kép)',
        'Communes reached by local outreach vs not reached (difference-in-differences)',
    ),
    "did_none": (
        'Không ước lượng được (cần vòng trước và cả xã có lẫn xã không có truyền thông tại chỗ).',
        'Not estimable (needs a previous round and both reached and not-reached communes).',
    ),
    "model": (
        'Mô hình',
        'Model',
    ),
    "model_unadjusted": (
        'Không hiệu chỉnh',
        'Unadjusted',
    ),
    "model_adjusted": (
        'Hiệu chỉnh theo giới, tuổi, học vấn',
        'Adjusted for sex, age, education',
    ),
    "smallest_cell": (
        'Ô nhỏ nhất (n)',
        'Smallest cell (n)',
    ),
    "communes_reached": (
        'Số xã có truyền thông',
        'Communes reached',
    ),
    "did_cells": (
        'Điểm hiểu biết trong bốn ô',
        'Knowledge score in the four cells',
    ),
    "cell": (
        'Ô',
        'Cell',
    ),
    "reached": (
        'Có truyền thông',
        'Reached',
    ),
    "not_reached": (
        'Không có',
        'Not reached',
    ),
    "before": (
        'vòng trước',
        'before',
    ),
    "after": (
        'vòng này',
        'after',
    ),
    "balance": (
        'Cân bằng ở vòng trước',
        'Balance in the earlier round',
    ),
    "variable": (
        'Biến',
        'Variable',
    ),
    "std_difference": (
        'Chênh lệch chuẩn hóa',
        'Standardised difference',
    ),
    "knowledge": (
        'Điểm hiểu biết',
        'Knowledge score',
    ),
    "caveats": (
        (
            'Hai vòng khảo sát không kiểm định được giả định xu hướng song song; giả định này được chấp '
            'nhận, không được chứng minh.',
            'Truyền thông không được phân bổ ngẫu nhiên: xã có và không có truyền thông có thể khác nhau '
            'theo những cách cũng ảnh hưởng đến thay đổi; xem bảng cân bằng và ước lượng đã hiệu chỉnh.',
            'Sai số chuẩn theo thiết kế mẫu (tuyến tính hóa Taylor), theo cụm xã; ít xã thì ít bậc tự do.',
            'Câu trả lời tự khai có thể chịu ảnh hưởng của chính cuộc khảo sát và của mong muốn trả lời '
            '“đúng”, nhất là nơi truyền thông dễ thấy.',
        ),
        CAVEATS,
    ),
    "focus": (
        'Danh sách tập trung: xã/phường theo khả năng thuộc {k} nơi cần nhất',
        'The focus list: communes by their chance of being among the {k} most in need',
    ),
    "map_tiers": (
        'Bản đồ ô: mức ưu tiên của các xã/phường, vòng {year}',
        'Tile map: the communes\' tiers, round {year}',
    ),
    "map_note": (
        'Mỗi ô là một xã/phường/thị trấn, xếp theo quận/huyện (không phải ranh giới thật); ô trắng: không có '
        'số liệu.',
        'Each tile is a commune, grouped by district (not its real boundary); white: no figure.',
    ),
    "map_missing": (
        'không có số liệu',
        'no figure',
    ),
    "map_model_only": (
        'gạch chéo: chỉ ước tính từ mô hình (không có phỏng vấn)',
        'hatched: model estimate only (no interviews)',
    ),
    "bmap_tiers": (
        'Bản đồ: mức ưu tiên của các xã/phường, vòng {year}',
        'Map: the communes\' tiers, round {year}',
    ),
    "bmap_note": (
        'Ranh giới do quản trị viên nạp; màu trắng: không có số liệu. Nguồn ranh giới: {attribution}',
        'Boundaries loaded by an administrator; white: no figure. Boundary data: {attribution}',
    ),
    "focus_caption": (
        'Màu là nhóm ưu tiên; đường gạch ở 25% và 75% là ngưỡng của nhóm.',
        'Colour is the tier; the dashed lines at 25% and 75% are the tier thresholds.',
    ),
    "change_marks": (
        'Thay đổi tính bằng điểm phần trăm; ▲ (tăng) hoặc ▼ (giảm) đánh dấu thay đổi rõ rệt: khoảng tin cậy '
        '95% của nó không chứa 0. Các thay đổi khác có thể chỉ do chọn mẫu.',
        'Changes are in percentage points; ▲ (up) or ▼ (down) marks a clear change: its 95% confidence '
        'interval excludes zero. The others could be sampling noise.',
    ),
    "p_top_k_axis": (
        'Khả năng thuộc {k} nơi cần nhất (%)',
        'Chance of being among the {k} most in need (%)',
    ),
    "focus_table": (
        '20 xã/phường đứng đầu danh sách',
        'The first 20 communes',
    ),
    "district_focus": (
        'Quận/huyện theo nhu cầu',
        'Districts by need',
    ),
    "commune": (
        'Phường/xã',
        'Commune',
    ),
    "district": (
        'Quận/huyện',
        'District',
    ),
    "city": (
        'Toàn thành phố',
        'Whole city',
    ),
    "tier": (
        'Nhóm ưu tiên',
        'Tier',
    ),
    "p_top_k": (
        'Khả năng thuộc {k} nơi cần nhất',
        'Chance of being among the {k} most in need',
    ),
    "rank": (
        'Thứ hạng [90%]',
        'Rank [90%]',
    ),
    "need": (
        'Nhu cầu [90%]',
        'Need [90%]',
    ),
    "reasons": (
        'Lý do',
        'Reasons',
    ),
    "channels": (
        'Kênh tiếp cận theo nhóm đối tượng (% đã nghe qua kênh trong 12 tháng)',
        'Channels by target group (% who heard through the channel in the last 12 months)',
    ),
    "channels_caption": (
        'Ô gạch chéo có dấu “–”: số liệu không công bố vì quá ít người trả lời.',
        'Hatched cells marked “–”: withheld, too few respondents.',
    ),
    "small_areas": (
        'Ước lượng cho từng xã/phường',
        'Commune estimates',
    ),
    "small_areas_note": (
        'Xã không có phỏng vấn mang ước lượng của quận/huyện (hoặc của mô hình), với sai số lớn hơn.',
        "Communes without interviews carry their district's (or the model's) estimate, with a wider "
        'interval.',
    ),
    "source": (
        'Nguồn',
        'Source',
    ),
    "risk": (
        'Mô hình nguy cơ và số người có nguy cơ',
        'Risk model and people at risk',
    ),
    "risk_note": (
        'Mô hình được ước lượng trên {n} người trả lời, kiểm định chéo {folds} phần theo xã.',
        'Fitted on {n} respondents; {folds}-fold cross-validation grouped by commune.',
    ),
    "risk_none": (
        "Không ước lượng được mô hình (cần ít nhất 5 xã có phỏng vấn và cả người có lẫn không có nguy cơ).",
        "The model could not be estimated (it needs at least 5 surveyed communes and people both at risk "
        "and not).",
    ),
    "risk_quality": (
        'Chất lượng dự báo (ngoài mẫu)',
        'Out-of-sample quality',
    ),
    "measure": (
        'Chỉ số',
        'Measure',
    ),
    "value": (
        'Giá trị',
        'Value',
    ),
    "calibration_slope": (
        'Độ dốc hiệu chuẩn (1 là tốt)',
        'Calibration slope (1 is ideal)',
    ),
    "calibration_intercept": (
        'Hệ số chặn hiệu chuẩn (0 là tốt)',
        'Calibration intercept (0 is ideal)',
    ),
    "calibration": (
        'Hiệu chuẩn theo thập phân vị',
        'Calibration by decile',
    ),
    "bin": (
        'Nhóm',
        'Decile',
    ),
    "predicted": (
        'Dự báo',
        'Predicted',
    ),
    "observed": (
        'Quan sát',
        'Observed',
    ),
    "at_risk": (
        'Số người có nguy cơ dự kiến theo quận/huyện',
        'Expected people at risk by district',
    ),
    "adults": (
        'Người 15–79 tuổi',
        'Adults 15–79',
    ),
    "expected": (
        'Dự kiến có nguy cơ',
        'Expected at risk',
    ),
    "rate": (
        'Tỷ lệ',
        'Rate',
    ),
    "women_expected": (
        'Trong đó phụ nữ 18–34',
        'Of whom women 18–34',
    ),
    "outreach": (
        'Hoạt động truyền thông năm {year}',
        'Outreach activities in {year}',
    ),
    "activities": (
        'Hoạt động',
        'Activities',
    ),
    "people_reached": (
        'Người được tiếp cận',
        'People reached',
    ),
    "types": (
        'Loại hình',
        'Types',
    ),
}

#: Table column → (Vietnamese, English) header, for the XLSX and CSV tables.
COLUMNS = {
    "round": ("Vòng", "Round"), "district_code": ("Mã quận/huyện", "District code"),
    "district_name": ("Quận/huyện", "District"), "commune_key": ("Mã xã/phường", "Commune code"),
    "commune_name": ("Xã/phường", "Commune"), "indicator": ("Chỉ số", "Indicator"),
    "indicator_label": ("Tên chỉ số", "Indicator name"), "group": ("Nhóm", "Group"),
    "group_label": ("Tên nhóm", "Group name"), "channel": ("Kênh", "Channel"),
    "channel_label": ("Tên kênh", "Channel name"), "activity_type": ("Loại hình", "Activity type"),
    "activity_label": ("Tên loại hình", "Activity name"), "tier": ("Nhóm ưu tiên", "Tier"),
    "tier_label": ("Tên nhóm ưu tiên", "Tier name"),
    "estimate": ("Ước lượng", "Estimate"), "se": ("Sai số chuẩn", "Standard error"),
    "ci_low": ("KTC 95% dưới", "95% CI low"), "ci_high": ("KTC 95% trên", "95% CI high"),
    "n": ("Số người trả lời", "Respondents"), "suppressed": ("Không công bố", "Withheld"),
    "change": ("Thay đổi", "Change"), "change_low": ("Thay đổi: KTC dưới", "Change: CI low"),
    "change_high": ("Thay đổi: KTC trên", "Change: CI high"),
    "p_top_k": ("Khả năng thuộc k nơi cần nhất", "Chance of being among the k most in need"),
    "need": ("Nhu cầu", "Need"), "reasons": ("Lý do", "Reasons"), "population": ("Dân số", "Population"),
    "expected": ("Dự kiến có nguy cơ", "Expected at risk"), "rate": ("Tỷ lệ", "Rate"),
    "people_reached": ("Người được tiếp cận", "People reached"), "activities": ("Hoạt động", "Activities"),
    "area": ("Khu vực", "Area"), "source": ("Nguồn ước lượng", "Estimate source"),
    "knowledge": ("Điểm hiểu biết", "Knowledge score"),
    "knowledge_low": ("Hiểu biết: KTC dưới", "Knowledge: CI low"),
    "knowledge_high": ("Hiểu biết: KTC trên", "Knowledge: CI high"),
    "hotline": ("Biết đường dây nóng", "Knows the hotline"), "risk": ("Tỷ lệ có nguy cơ", "Share at risk"),
    "rank_median": ("Thứ hạng trung vị", "Median rank"),
    "population_total": ("Tổng dân số", "Total population"),
    "model": ("Mô hình", "Model"), "variable": ("Biến", "Variable"),
}


NOTES = {
    "no_previous": ("Không có vòng trước: không tính thay đổi và khác biệt kép.",
                    "No previous round: no change and no difference-in-differences."),
    "did_no_contrast": (
        "Không ước lượng được khác biệt kép: giữa hai vòng, {reached} trong {communes} xã/phường được "
        "khảo sát có hoạt động truyền thông tại chỗ, nên không có hai nhóm để so sánh.",
        "The difference-in-differences cannot be estimated: {reached} of the {communes} surveyed "
        "communes had local outreach between the rounds, so there are not two groups to compare."),
    "did_failed": ("Không ước lượng được khác biệt kép: {reason}.",
                   "The difference-in-differences could not be estimated: {reason}."),
    "risk_failed": ("Không ước lượng được mô hình nguy cơ: {reason}.",
                    "The risk model could not be fitted: {reason}."),
    "subsample": ("Mô hình nguy cơ được ước lượng trên một mẫu con ngẫu nhiên phân tầng gồm {n} trong "
                  "{of} người trả lời.",
                  "The risk model was fitted on a stratified random subsample of {n} of {of} "
                  "respondents."),
}

#: Why an estimate could not be made, by the analysis error's code (:mod:`analysis.errors`), in words.
REASONS = {
    "too-few-psus": ("quá ít xã/phường trong một nhóm", "too few communes in a group"),
    "domain-empty": ("một nhóm không có người trả lời", "a group has no respondents"),
    "variable-invalid": ("số liệu không có đủ các giá trị cần thiết (ví dụ: không ai, hoặc ai cũng, "
                         "thuộc một nhóm)",
                         "the data lack the values it needs (for example nobody, or everybody, is in "
                         "one group)"),
    "model-invalid": ("quá ít xã/phường hoặc người trả lời cho mô hình",
                      "too few communes or respondents for the model"),
    "no-convergence": ("phép ước lượng không hội tụ", "the estimation did not converge"),
    "design-invalid": ("thiết kế mẫu không hợp lệ", "the survey design is not valid"),
    "column-missing": ("thiếu một biến cần thiết", "a variable it needs is missing"),
}
_REASON_OTHER = ("số liệu không cho phép", "the data do not allow it")
NOTES_OTHER = ("Một phần của báo cáo không tính được.", "Part of the report could not be computed.")


def note(entry: dict, language: str) -> str:
    """A build note (:attr:`analysis.gap_report.GapReport.notes`) in ``language``, from its codes alone.

    A note carries codes and numbers, never an exception's text: ``reason`` is an analysis error code.
    """
    index = 0 if labels.check_language(language) == "vi" else 1
    vi_en = NOTES.get(entry["code"])
    if vi_en is None:
        return NOTES_OTHER[index]
    fields = {k: v for k, v in entry.items() if k != "code"}
    if "reason" in fields:
        fields["reason"] = REASONS.get(fields["reason"], _REASON_OTHER)[index]
    # counts with the reader's thousands separator (vi 1.809, en 1,809)
    fields = {k: f"{v:,}".replace(",", "." if index == 0 else ",") if isinstance(v, int) and not isinstance(
        v, bool) else v for k, v in fields.items()}
    return vi_en[index].format(**fields)
